"""Sphinx configuration for the loop project's documentation.

The API reference is generated from the installed packages' docstrings
(``nox -s docs`` installs them); every Python example is a doctest block that
``sphinx-build -b doctest`` executes.
"""

from __future__ import annotations

project = "loop"
author = "The loop developers"
copyright = "2026, the loop developers"

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.doctest",
    "sphinx.ext.viewcode",
]

html_theme = "alabaster"
autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autodoc_default_options = {"members": True, "show-inheritance": False}
nitpicky = False
suppress_warnings = ["ref.python"]
exclude_patterns = ["_build", "requirements.txt"]
