"""Sphinx configuration of the HTML edition (``make book``).

The book shows the seven notebooks as they were executed and committed: nothing is re-run
(``nb_execution_mode = "off"``). ``scripts/build_book.py`` copies this folder and the notebooks
into a staging folder and runs Sphinx there, so ``notebooks/`` is never written to.
"""

from pathlib import Path

project = "Urban community governance performance from a public-value perspective"
author = "the compendium's authors"
copyright = "the compendium's authors; synthetic data"
language = "en"

extensions = [
    "myst_nb",
    # MathJax from the package instead of a CDN: the book is read offline too.
    "sphinx-mathjax-offline",
]

# The notebooks are shown with their committed outputs, never executed.
nb_execution_mode = "off"
myst_enable_extensions = ["dollarmath"]
myst_heading_anchors = 3

exclude_patterns = ["_build", "**.ipynb_checkpoints"]
source_suffix = {".md": "myst-nb", ".ipynb": "myst-nb"}

html_theme = "furo"
html_title = "Urban community governance performance"
html_static_path = ["_static"]
html_css_files = ["book.css"]
# The CJK web font, when scripts/build_book.py could make it (see its docstring).
if (Path(__file__).parent / "_static" / "cjk-font.css").is_file():
    html_css_files.append("cjk-font.css")
html_show_sourcelink = False
html_copy_source = False
html_last_updated_fmt = None
# No build date and no search index timestamps in the pages: the same notebooks give the same
# HTML.
html_theme_options = {
    "navigation_with_keys": True,
    "top_of_page_buttons": [],
}
