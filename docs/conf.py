"""Sphinx configuration of natgrad's documentation site.

Build: ``.venv/bin/pip install -q -e ".[docs]" && .venv/bin/sphinx-build -W -b html docs
docs/_build/html``. The gallery (``examples/``) is executed at every build; the API pages
are generated from the docstrings (``autosummary``), which are numpydoc.
"""

from __future__ import annotations

import os
import warnings

import natgrad

project = "natgrad"
author = "the natgrad developers"
copyright = "the natgrad developers"
release = natgrad.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.doctest",
    "sphinx.ext.mathjax",
    "numpydoc",
    "myst_parser",
    "sphinx_gallery.gen_gallery",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "**.ipynb_checkpoints", "auto_examples/*.ipynb"]
templates_path = ["_templates"]

# Single backticks link to a Python object when one exists, else render as emphasis: the
# docstrings write `natgrad.distributions` and `fit` alike.
default_role = "autolink"

# -- API reference -------------------------------------------------------------------------
autosummary_generate = True
autosummary_imported_members = True
autodoc_default_options = {"members": True, "inherited-members": False}
autodoc_typehints = "none"  # numpydoc's parameter lists carry the types
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = False
numpydoc_xref_param_type = False

# -- Markdown pages ------------------------------------------------------------------------
myst_enable_extensions = ["dollarmath", "colon_fence"]
myst_heading_anchors = 3

# -- Doctest (`make doctest`, and the docstrings' Examples sections) -----------------------
doctest_global_setup = "import numpy as np\nimport natgrad\n"

# -- Gallery -------------------------------------------------------------------------------
sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    # NATGRAD_GALLERY_SKIP=<regex> skips the matching example files (quick local previews;
    # the user guide's pictures of skipped examples are then missing, so drop -W there).
    "ignore_pattern": os.environ.get("NATGRAD_GALLERY_SKIP", r"__init__\.py"),
    "within_subsection_order": "FileNameSortKey",
    "download_all_examples": False,
    "remove_config_comments": True,
    "matplotlib_animations": False,
    "image_scrapers": ("matplotlib",),
    "doc_module": ("natgrad",),
    "backreferences_dir": "api/generated/backreferences",
    "show_memory": False,
    "abort_on_example_error": True,
}

# The gallery runs the examples with the non-interactive backend; matplotlib must not try
# to open windows on a build machine.
os.environ.setdefault("MPLBACKEND", "Agg")
warnings.filterwarnings("ignore", message="Matplotlib is currently using agg")

# -- HTML ----------------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"natgrad {release}"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc"],
}
html_static_path: list[str] = []
html_show_sourcelink = False
# No intersphinx: the build machines reach package registries only, and a failed inventory
# fetch is a warning, which -W turns into a failed build.


# -- Docstrings written for the terminal, read as reStructuredText --------------------------
# natgrad's docstrings write math in plain text: |x| (absolute values, which reStructuredText
# reads as substitutions), attribute names ending in "_" (read as link targets) and formula
# blocks indented under a sentence ending in ":" (read as block quotes, which break on
# deeper indentation). Before numpydoc parses a docstring, this escapes the first two in
# prose and turns such formula blocks into literal blocks, so they render as written.
# Inline literals (``...``), roles and references (`...`), doctest examples and literal
# blocks are left alone.
import re  # noqa: E402

_INLINE = re.compile(r"(``.+?``|`[^`]+`_{0,2})")
_TRAILING_UNDERSCORE = re.compile(r"(?<=[A-Za-z0-9])_(?=[\s,.;:)\]]|$)")
_EMPHASIS = re.compile(r"(\*\*[^*]+?\*\*|\*[^*\s](?:[^*]*[^*\s])?\*)")
_LIST_START = re.compile(r"^\s*([*+-] |\d+\. |``|\.\. |>>> )")


def _escape_prose(line: str) -> str:
    bullet = re.match(r"^\s*[*+-] ", line)  # a list item's marker stays as it is
    if bullet:
        return bullet.group(0) + _escape_prose(line[bullet.end() :])
    parts = _INLINE.split(line)
    for i in range(0, len(parts), 2):  # even parts lie outside inline markup
        text = _TRAILING_UNDERSCORE.sub(r"\\_", parts[i].replace("|", r"\|"))
        # a "*" that opens no emphasis (shapes like (n, *shape), products like a*b)
        pieces = _EMPHASIS.split(text)
        pieces[::2] = [piece.replace("*", r"\*") for piece in pieces[::2]]
        parts[i] = "".join(pieces)
    return "".join(parts)


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


# Docstrings inherited from scikit-learn (an override without its own docstring, such as
# a score method) cite labels of scikit-learn's documentation: keep their text only.
_FOREIGN_ROLE = re.compile(r":(?:ref|term):`([^`<]*?)\s*(?:<[^>]*>)?`")


def _plain_text_docstring(app, what, name, obj, options, lines):  # noqa: ARG001
    lines[:] = [_FOREIGN_ROLE.sub(r"``\1``", line) for line in lines]
    out: list[str] = []
    literal_indent: int | None = None  # inside a literal block deeper than this
    in_doctest = False
    for i, line in enumerate(lines):
        stripped = line.strip()
        if literal_indent is not None:
            if stripped and _indent(line) <= literal_indent:
                literal_indent = None
            else:
                out.append(line)
                continue
        if stripped.startswith(">>>"):
            in_doctest = True
        if in_doctest:
            out.append(line)
            if not stripped:
                in_doctest = False
            continue
        header = _indent(line) == 0 and " : " in line  # a numpydoc "name : type" line
        if header:  # the names stay as they are; the type is prose
            names, kind = line.split(" : ", 1)
            new = names + " : " + _escape_prose(kind)
        else:
            new = _escape_prose(line)
        if stripped.endswith("::"):
            literal_indent = _indent(line)
        elif stripped.endswith(":") and not header:
            following = next((x for x in lines[i + 1 :] if x.strip()), "")
            if _indent(following) > _indent(line) and not _LIST_START.match(following):
                new = new + ":"
                literal_indent = _indent(line)
        out.append(new)
    lines[:] = out


def _skip_member(app, what, name, obj, skip, options):  # noqa: ARG001
    # scikit-learn generates set_*_request methods for metadata routing; their docstrings
    # point into scikit-learn's own documentation.
    if name.startswith("set_") and name.endswith("_request"):
        return True
    return None


def setup(app):
    app.connect("autodoc-process-docstring", _plain_text_docstring, priority=100)
    app.connect("autodoc-skip-member", _skip_member)
