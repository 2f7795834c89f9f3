"""Sphinx extension: the conformance report's table on the conformance page.

Reads the first table of ``integration-tests/conformance/REPORT.md`` (made by
``nox -s conformance``) into ``docs/_generated/conformance.inc``, so the page
shows the numbers of the last run instead of pointing at the file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from benchmark_charts import read_table, table_rst

HEADING = "# CPython asyncio conformance"


def generate(app: Any) -> None:
    source = Path(app.srcdir)
    report = (source.parent / "integration-tests" / "conformance" / "REPORT.md").read_text()
    header, rows = read_table(report, HEADING)
    intro = next(line for line in report.splitlines() if line.startswith("CPython's own"))
    out = source / "_generated"
    out.mkdir(exist_ok=True)
    (out / "conformance.inc").write_text(
        intro.replace("`", "``") + "\n\n" + table_rst(header, rows)
    )


def setup(app: Any) -> dict[str, Any]:
    app.connect("builder-inited", generate)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
