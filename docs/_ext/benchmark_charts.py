"""Sphinx extension: the charts and tables of benchmarks/RESULTS.md, made at build time.

For each section of RESULTS.md listed in :data:`SECTIONS`, the first table is
read and turned into ``docs/_generated/bench-<name>.png`` (each
implementation's speed relative to stock asyncio, per row: higher is faster)
and ``docs/_generated/bench-<name>.inc`` (the table as reStructuredText), which
``benchmarks.rst`` shows. Nothing generated is committed: the pictures always
match the results file they come from.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

# Section name -> the results file under benchmarks/ and the start of the
# heading its table follows.
SECTIONS = {
    "loop": ("RESULTS.md", "## The loop (loop-core)"),
    "executor": ("RESULTS.md", "## Threads and name resolution"),
    "network": ("RESULTS.md", "## Network, processes and TLS"),
    "server-cpu": ("RESULTS-network.md", "# Network benchmark: server CPU per request"),
}
# Implementations in the order they are drawn, with their colours.
IMPLEMENTATIONS = {
    "compiled": "#1f5fa8",
    "pure": "#7fa7d6",
    "uvloop": "#d9822b",
    "rloop": "#9b59b6",
    "asyncio": "#8c8c8c",
}
_TIME_COLUMN = re.compile(r"^(?P<impl>\w+) \((?P<unit>ns|ms|µs)\)$")


def read_table(results: str, heading: str) -> tuple[list[str], list[list[str]]]:
    """The header cells and rows of the first table after *heading*."""
    start = results.index(heading)
    lines = results[start:].splitlines()
    table = [line for line in _first_block(lines) if line.startswith("|")]
    cells = [[cell.strip() for cell in line.strip("|").split("|")] for line in table]
    return cells[0], [row for row in cells[2:] if row]


def _first_block(lines: list[str]) -> list[str]:
    block: list[str] = []
    for line in lines[1:]:
        if line.startswith("|"):
            block.append(line)
        elif block:
            break
    return block


def speeds(header: list[str], rows: list[list[str]]) -> dict[str, list[float]]:
    """Per implementation, asyncio's time over its time, row by row."""
    columns = {}
    for index, name in enumerate(header):
        found = _TIME_COLUMN.match(name)
        if found and found["impl"] in IMPLEMENTATIONS:
            columns[found["impl"]] = index
    baseline = columns["asyncio"]
    return {
        impl: [_ratio(row[baseline], row[index]) for row in rows] for impl, index in columns.items()
    }


def _ratio(baseline: str, value: str) -> float:
    # "n/a": the implementation cannot run that row (no bar is drawn).
    if value == "n/a" or baseline == "n/a":
        return 0.0
    return float(baseline) / float(value)


def draw(title: str, header: list[str], rows: list[list[str]], path: Path) -> None:
    import matplotlib  # noqa: PLC0415 - only the docs build needs it

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    relative = speeds(header, rows)
    labels = [row[0] for row in rows]
    count = len(relative)
    height = 0.8 / count
    figure, axes = plt.subplots(figsize=(10, 0.25 + 0.42 * len(rows) * count / 2.2))
    for slot, (impl, values) in enumerate(relative.items()):
        positions = [row + slot * height for row in range(len(rows))]
        axes.barh(positions, values, height=height, label=impl, color=IMPLEMENTATIONS[impl])
    axes.set_yticks([row + 0.4 - height / 2 for row in range(len(rows))], labels)
    axes.invert_yaxis()
    axes.axvline(1.0, color="black", linewidth=0.8)
    axes.set_xlabel("speed relative to stock asyncio (CPU time per operation; higher is faster)")
    axes.set_title(title)
    axes.legend(loc="lower right", fontsize="small")
    axes.grid(axis="x", alpha=0.3)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def table_rst(header: list[str], rows: list[list[str]]) -> str:
    widths = " ".join(["4"] + ["1"] * (len(header) - 1))  # room for the workload's name
    lines = [".. list-table::", "   :header-rows: 1", f"   :widths: {widths}", ""]
    for row in [header, *rows]:
        lines.append(f"   * - {row[0]}")
        lines.extend(f"     - {cell}" for cell in row[1:])
    return "\n".join(lines) + "\n"


def generate(app: Any) -> None:
    source = Path(app.srcdir)
    out = source / "_generated"
    out.mkdir(exist_ok=True)
    # Each results file read once, though several sections come from it.
    texts = {
        file_name: (source.parent / "benchmarks" / file_name).read_text()
        for file_name in {file_name for file_name, _ in SECTIONS.values()}
    }
    for name, (file_name, heading) in SECTIONS.items():
        results = texts[file_name]
        header, rows = read_table(results, heading)
        draw(heading.lstrip("# "), header, rows, out / f"bench-{name}.png")
        (out / f"bench-{name}.inc").write_text(table_rst(header, rows))
        command = next(line for line in results.splitlines() if line.startswith("Made by"))
        (out / f"bench-{name}-command.inc").write_text(command.replace("`", "``") + "\n")


def setup(app: Any) -> dict[str, Any]:
    app.connect("builder-inited", generate)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
