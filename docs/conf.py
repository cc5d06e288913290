"""Sphinx configuration for the fastl1 documentation.

Build (from the repository root; -W turns every warning into an error)::

    pip install -e ".[docs]"
    python -m sphinx -W -b html docs docs/_build/html
"""

from __future__ import annotations

import sys
from pathlib import Path

# Import fastl1 from this source tree even when it is not installed.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import fastl1  # noqa: E402

project = "fastl1"
author = "fastl1 developers"
copyright = "fastl1 developers"  # noqa: A001
release = fastl1.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "numpydoc",
    "myst_parser",
]

# The landing page is contents.md (a toctree); index.md is the design page, kept as it is.
root_doc = "contents"
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]

# MyST: heading anchors for [text](page.md#anchor) links. Formulas are written as code, so
# the pages need no MathJax (which would load from the network).
myst_enable_extensions = ["colon_fence"]
myst_heading_anchors = 3

# autodoc / numpydoc
autodoc_member_order = "bysource"
autodoc_typehints = "none"  # the numpydoc sections already give the types
numpydoc_show_class_members = False  # members are listed by autodoc's :members:
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False

html_theme = "alabaster"
html_theme_options = {"page_width": "1280px", "sidebar_width": "230px", "code_font_size": "0.8em"}
html_title = f"fastl1 {release}"
html_static_path: list[str] = []
