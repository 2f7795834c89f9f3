"""Sphinx configuration for the loop project's documentation.

The site documents the checkout it lives in: every ``packages/*/src`` folder
is put at the front of ``sys.path``, so autodoc and the doctest builder import
the packages' source without installing them (an installed copy of a package
never shadows the code being documented). Every Python example is a
``testcode`` block that ``sphinx-build -b doctest`` executes.

Build it (``docs/requirements.txt`` lists what it needs)::

    sphinx-build -W --keep-going -b html docs <out>/html
    sphinx-build -W --keep-going -b doctest docs <out>/doctest
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Every package's source folder goes first on sys.path, in a fixed order, so an
# installed copy of a package can never shadow the checkout being documented.
_SOURCES = [str(src) for src in sorted((ROOT / "packages").glob("*/src"))]
sys.path[:] = _SOURCES + [entry for entry in sys.path if entry not in _SOURCES]

project = "loop"
author = "The loop developers"
copyright = "2026, the loop developers"

# Local extensions (benchmark charts) live in docs/_ext.
sys.path.insert(0, str(ROOT / "docs" / "_ext"))

extensions = [
    "benchmark_charts",
    "conformance_table",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.doctest",
    "sphinx.ext.viewcode",
]

exclude_patterns = ["_build", "_ext", "_generated", "requirements.txt"]

html_theme = "alabaster"
html_static_path = ["_static"]
# Long dotted names wrap inside table cells instead of widening the page.
html_css_files = ["tables.css"]
html_theme_options = {
    # Wide enough for the compatibility table, narrow enough for a 1280 px window.
    "page_width": "1200px",
    "sidebar_width": "220px",
    "description": "A fast, typed implementation of asyncio's design",
    "fixed_sidebar": True,
}

nitpicky = False
# Cross-references to the standard library (asyncio, selectors, ...) cannot be
# resolved without intersphinx, which needs the network; they render as plain
# literals instead of warning.
suppress_warnings = ["ref.python"]

autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autodoc_default_options = {"show-inheritance": False}

napoleon_google_docstring = True
napoleon_numpy_docstring = False
