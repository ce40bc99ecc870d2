"""The feedback page a learner gets: what it shows, what it hides, and how its math renders.

nbgrader's GenerateFeedback turns an autograded notebook into HTML. With its defaults the
page shows every hidden test's code, lists each test as "Test cell", and loads MathJax from
a CDN (raw ``$...$`` without a network). `feedback_config()` fixes all three, and
`gradelib.course.nbgrader_config()` merges it in, so `nbgrader generate_feedback`, the
formgrader's button and `gradelib grade` produce the same page:

- ``ClearHiddenTests`` (gradelib.nbgrader_steps) deletes the lines between the hidden-test markers, and
  ``HideTestTracebacks`` cuts each test cell's traceback down to its last line (the
  exception and its message), since a traceback quotes the failing lines of the test;
- the ``gradelib_feedback`` template (templates/ beside this module) names each test by the
  exercise it checks (the solution cell above it) and inlines MathJax 3 from the
  ``django-static-mathjax`` package, so the page renders its math offline, anywhere it is
  opened. MathJax's SVG output needs no font files: one script is the whole renderer.
  ``FeedbackExporter`` makes the page with less work than nbconvert's exporter (see it).
"""
from __future__ import annotations

import functools
import re
import secrets
from importlib import resources
from pathlib import Path

import jinja2
from nbconvert.exporters import HTMLExporter
from nbconvert.preprocessors import Preprocessor

__all__ = ["TEMPLATE", "FeedbackExporter", "HideTestTracebacks", "feedback_config", "mathjax_script"]

TEMPLATE = "gradelib_feedback"
TEMPLATES = Path(__file__).resolve().parent / "templates"
MATHJAX = ("mathjax", "static/mathjax/es5/tex-svg-full.js")  # (package, file) of django-static-mathjax

# MathJax 3's settings for notebook markdown: $...$ inline, $$...$$ display, as JupyterLab.
MATHJAX_SETTINGS = """window.MathJax = {
  tex: {inlineMath: [['$', '$'], ['\\\\(', '\\\\)']], displayMath: [['$$', '$$'], ['\\\\[', '\\\\]']],
        processEscapes: true, processEnvironments: true},
  svg: {fontCache: 'global'},
  startup: {pageReady: () => MathJax.startup.defaultPageReady().then(() => {document.body.dataset.mathjax = 'done';})}
};"""


class HideTestTracebacks(Preprocessor):
    """Cut a test cell's tracebacks to their last line, ``ExceptionName: message``.

    A traceback quotes the lines around each frame, hidden tests' lines among them; the
    message is what the learner needs. Cells that are not tests keep their tracebacks.
    """

    def preprocess_cell(self, cell, resources, index):
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type == "code" and meta.get("grade") and not meta.get("solution"):
            for output in cell.get("outputs", []):
                if output.output_type == "error":
                    output.traceback = [f"{output.ename}: {output.evalue}"]
        return cell, resources


@functools.lru_cache(maxsize=1)
def _mathjax_source() -> str:
    package, name = MATHJAX
    return (resources.files(package) / name).read_text(encoding="utf-8")


def mathjax_script(_unused=None) -> str:
    """The ``<script>`` elements that render the page's math with no network: a Jinja filter."""
    import markupsafe

    source = _mathjax_source()
    if "</script" in source.lower():  # would end the inline script early
        raise RuntimeError(f"{MATHJAX[1]} cannot be inlined: it contains '</script'")
    return markupsafe.Markup(f"<script>\n{MATHJAX_SETTINGS}\n</script>\n<script id=\"MathJax-script\">\n{source}\n</script>")


class _MemoryBytecodeCache(jinja2.BytecodeCache):
    """Compiled templates kept for the process: every page after the first skips Jinja's compiler.
    Jinja checks each entry against its template's source, so an edited template is recompiled."""

    def __init__(self):
        self._store: dict[str, bytes] = {}

    def load_bytecode(self, bucket) -> None:
        code = self._store.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket) -> None:
        self._store[bucket.key] = bucket.bytecode_to_string()


_BYTECODE = _MemoryBytecodeCache()
# The same for the whole process: Jinja folds a filter applied to a constant into the compiled
# template (``{{ "" | gradelib_mathjax }}``), and compiled templates are shared (above).
_MATHJAX_MARKER = f"<!--gradelib-mathjax-{secrets.token_hex(16)}-->"
_IMG_WITHOUT_ALT = re.compile(r"<img\b(?![^>]*\balt=)", re.IGNORECASE)
NO_ALT_TEXT = "No description has been provided for this image"  # nbconvert's words


class FeedbackExporter(HTMLExporter):
    """The feedback page's exporter: nbconvert's HTML exporter, doing less work for the same page.

    * ``HTMLExporter.from_notebook_node`` parses and re-serialises the whole rendered page with
      BeautifulSoup, to give images without one an alt text and to make JupyterLab-template
      cells focusable. The feedback template is a classic one (no JupyterLab cells), so only
      the alt text applies: it is added by a pattern here, and the parse (a third of a page's
      time) is skipped.
    * MathJax (the ``gradelib_mathjax`` filter), 2 MB of script, goes in last: the template
      renders a marker unique to the process, replaced once the page is done.
    * Compiled templates are shared by every exporter of the process (``_MemoryBytecodeCache``):
      a grading worker makes one page per notebook.
    """

    def _create_environment(self):
        import markupsafe

        environment = super()._create_environment()
        environment.bytecode_cache = _BYTECODE
        marker = markupsafe.Markup(_MATHJAX_MARKER)
        environment.filters["gradelib_mathjax"] = lambda _unused=None: marker
        return environment

    def from_notebook_node(self, nb, resources=None, **kw):
        from nbconvert.exporters.templateexporter import TemplateExporter
        from nbconvert.filters.highlight import Highlight2HTML
        from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter

        # HTMLExporter.from_notebook_node up to its BeautifulSoup pass (nbconvert 7).
        langinfo = nb.metadata.get("language_info", {})
        lexer = langinfo.get("pygments_lexer", langinfo.get("name", None))
        highlight_code = self.filters.get("highlight_code", Highlight2HTML(pygments_lexer=lexer, parent=self))
        resources = self._init_resources(resources)
        filter_data_type = WidgetsDataTypeFilter(notebook_metadata=self._nb_metadata, parent=self, resources=resources)
        self.register_filter("highlight_code", highlight_code)
        self.register_filter("filter_data_type", filter_data_type)
        html, resources = TemplateExporter.from_notebook_node(self, nb, resources, **kw)
        html = _IMG_WITHOUT_ALT.sub(f'<img alt="{NO_ALT_TEXT}"', html)
        return html.replace(_MATHJAX_MARKER, str(mathjax_script()), 1), resources


def feedback_config():
    """GenerateFeedback's settings: its preprocessors and its HTML exporter's template.

    Scoped to ``GenerateFeedback.HTMLExporter`` so the formgrader's own pages, which use
    another template through the same exporter class, are unaffected.
    """
    from traitlets.config import Config

    import nbgrader

    c = Config()
    c.GenerateFeedback.exporter_class = "gradelib.feedback.FeedbackExporter"
    # GetGrades reads the scores by grade_id before anything edits the cells; the two
    # hiding steps must come before the page's CSS and rendering. Import paths rather than
    # classes keep the configuration serializable (the formgrader shows it).
    c.GenerateFeedback.preprocessors = [
        "nbgrader.preprocessors.GetGrades",
        "gradelib.nbgrader_steps.ClearHiddenTestsInFeedback",
        "gradelib.feedback.HideTestTracebacks",
        "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
    ]
    formgrader = Path(nbgrader.__file__).resolve().parent / "server_extensions" / "formgrader"
    exporter = c.GenerateFeedback.HTMLExporter
    exporter.template_name = TEMPLATE
    # nbgrader's templates (ours extends its "feedback") and its Bootstrap CSS, which the
    # page inlines; GenerateFeedback sets these itself only when nothing else does.
    exporter.extra_template_basedirs = [str(TEMPLATES), str(formgrader / "templates")]
    exporter.extra_template_paths = [
        str(formgrader / "templates"),  # where 'feedback/index.html.j2' is found by that name
        str(formgrader / "static" / "node_modules" / "bootstrap" / "dist" / "css"),
    ]
    exporter.filters = {"gradelib_mathjax": "gradelib.feedback.mathjax_script"}
    return c
