"""The executed notebook as an HTML fragment for a feedback page: sanitized, self-contained.

Everything in an executed notebook is student-controlled (sources, outputs, metadata), so the
notebook is first rebuilt from a whitelist (`prepare`): cell sources, known output types and a
few display mimetypes survive; cell and output metadata, attachments, raw cells, JavaScript and
widget outputs do not. nbconvert's `basic` template then renders it with `sanitize_html` on and
its `clean_html` filter replaced by `clean_html` below (bleach with a reading-friendly whitelist:
headings, tables and `data:` images stay; scripts, styles, iframes, event handlers and remote
URLs go). The feedback page adds a Content-Security-Policy that forbids scripts and every fetch,
so anything this sanitizer missed still cannot run or load.

`prepare` also marks cells for the page: cells with an error output, cells a failing check points
to (`Note`s shown above the cell), and long outputs folded into `<details>`.
"""
from __future__ import annotations

import functools
import itertools
import json
import re
from dataclasses import dataclass

import nbformat
from bleach.sanitizer import Cleaner
from jinja2 import DictLoader
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from .text import clean_text

# Outputs longer than this are folded behind a <details> summary.
FOLD_LINES = 30
FOLD_CHARS = 4000
# Tracebacks are the interesting part of a failing cell: folded only when very long.
FOLD_TRACEBACK_LINES = 60
# A single text output is cut to this many characters (head and tail kept).
MAX_OUTPUT_CHARS = 60_000
# Larger images (base64 or SVG characters) are left out of the page, with a note.
MAX_IMAGE_CHARS = 1_500_000

_DISPLAY_MIMES = ("text/html", "text/markdown", "image/svg+xml", "image/png", "image/jpeg",
                  "text/latex", "text/plain")
_BASE64 = re.compile(r"[A-Za-z0-9+/=\s]*")
_CELL_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")

_TAGS = frozenset("""a abbr b blockquote br caption code col colgroup dd del details div dl dt em
figcaption figure h1 h2 h3 h4 h5 h6 hr i img ins kbd li mark ol p pre q s samp small span strong
sub summary sup table tbody td tfoot th thead tr u ul var""".split())
_HEADINGS = frozenset(("h1", "h2", "h3", "h4", "h5", "h6"))
_ID = re.compile(r"[A-Za-z][\w.:-]{0,120}")
_DATA_IMAGE = re.compile(r"data:image/(png|jpeg|gif|webp);base64,[A-Za-z0-9+/=\s]*", re.IGNORECASE)


def _allowed_attribute(tag: str, name: str, value: str) -> bool:
    """The attribute whitelist of student HTML: no styles, no handlers, no remote resources."""
    if name == "class":
        # nbconvert's classes are fine; the page's own (gr-*) are not, so a student cannot fake
        # a "passed" banner inside their notebook.
        return not any(token.startswith("gr-") for token in value.split())
    if name == "title":
        return True
    if name == "id":
        # Heading anchors from markdown; never one of the page's own anchors.
        return tag in _HEADINGS and bool(_ID.fullmatch(value)) and not value.startswith(("gr-", "cell-id"))
    if tag == "a":
        return name == "href" and not value.strip().lower().startswith("data:")
    if tag == "img":
        if name == "src":
            return bool(_DATA_IMAGE.fullmatch(value.strip()))
        return name in ("alt", "width", "height")
    if tag in ("td", "th"):
        return name in ("colspan", "rowspan", "align")
    if tag == "ol":
        return name == "start"
    return False


_SCRIPT_OR_STYLE = re.compile(r"<(script|style)\b[^>]*>.*?</\1\s*>", re.IGNORECASE | re.DOTALL)


@functools.lru_cache(maxsize=1)
def _cleaner() -> Cleaner:
    return Cleaner(tags=_TAGS, attributes=_allowed_attribute,
                   protocols=["http", "https", "mailto", "data"], strip=True, strip_comments=True)


def clean_html(html: object) -> str:
    """Student HTML made safe to embed: bleach with a whitelist (see the module docstring).

    The text inside <script> and <style> elements is dropped first (bleach would keep it as
    visible text when stripping the tags); bleach alone decides what is safe.
    """
    text = html.decode() if isinstance(html, bytes) else str(html)
    return _cleaner().clean(_SCRIPT_OR_STYLE.sub("", text))


@dataclass(frozen=True)
class Note:
    """A label above a notebook cell: `kind` is `error` or `check`; `href` links back to a check."""

    kind: str
    text: str
    href: str = ""


@dataclass
class PreparedNotebook:
    notebook: nbformat.NotebookNode
    # cell id as the results model names it (the cell's id, or "cell-<index>") -> HTML anchor id
    anchors: dict[str, str]
    error_cells: int


def anchor_id(cell_id: str) -> str:
    """The HTML id nbconvert's templates give a cell (`id="cell-id=<id>"`)."""
    return f"cell-id={cell_id}"


def _cut(text: str) -> str:
    if len(text) <= MAX_OUTPUT_CHARS:
        return text
    head, tail = text[: MAX_OUTPUT_CHARS * 3 // 4], text[-MAX_OUTPUT_CHARS // 4:]
    return f"{head}\n[... {len(text) - len(head) - len(tail):,} characters cut by the grader ...]\n{tail}"


def _text(value: object) -> str:
    if isinstance(value, list):
        return "".join(str(v) for v in value)
    return "" if value is None else str(value)


def _fold_label(text: str, what: str = "output") -> str | None:
    lines = text.count("\n") + (0 if text.endswith("\n") else 1)
    if lines > FOLD_LINES or len(text) > FOLD_CHARS:
        return f"Long {what}: {lines:,} lines, {len(text):,} characters (tap to show)"
    return None


def _clean_outputs(outputs: list) -> tuple[list, list[str]]:
    """Known output types with whitelisted fields; returns the outputs and the error names."""
    clean, errors = [], []
    for output in outputs or []:
        kind = output.get("output_type")
        if kind == "stream":
            text = _cut(_text(output.get("text")))
            name = output.get("name") if output.get("name") in ("stdout", "stderr") else "stdout"
            new = new_output("stream", name=name, text=text)
            fold = _fold_label(text)
        elif kind == "error":
            traceback = [_text(line) for line in output.get("traceback") or []]
            joined = _cut("\n".join(traceback))
            traceback = joined.split("\n")
            ename, evalue = _text(output.get("ename")), _text(output.get("evalue"))
            new = new_output("error", ename=ename, evalue=evalue, traceback=traceback or [f"{ename}: {evalue}"])
            errors.append(clean_text(ename) or "an error")
            fold = None
            if len(traceback) > FOLD_TRACEBACK_LINES:
                fold = f"Traceback, {len(traceback):,} lines: {clean_text(ename)}: {clean_text(evalue)[:160]}"
        elif kind in ("execute_result", "display_data"):
            data, too_big = {}, 0
            for mime in _DISPLAY_MIMES:
                value = (output.get("data") or {}).get(mime)
                if value is None:
                    continue
                value = _text(value)
                if mime in ("image/png", "image/jpeg") and not _BASE64.fullmatch(value):
                    continue
                if mime.startswith("image/") and len(value) > MAX_IMAGE_CHARS:
                    too_big = max(too_big, len(value))
                    continue
                data[mime] = value if mime.startswith("image/") else _cut(value)
            if too_big and not any(m.startswith("image/") for m in data):
                data["text/plain"] = f"[an image of {too_big // 1024:,} KiB is left out of this page]"
            if not data:
                continue
            new = new_output(kind, data=data)
            if kind == "execute_result":
                count = output.get("execution_count")
                new.execution_count = count if isinstance(count, int) else None
            shown = next((data[m] for m in ("text/html", "text/markdown", "text/plain") if m in data), "")
            fold = None if any(m.startswith("image/") for m in data) else _fold_label(shown)
        else:
            continue
        if fold:
            new.metadata = {"grader_fold": fold}
        clean.append(new)
    return clean, errors


def prepare(nb: nbformat.NotebookNode, notes: dict[str, list[Note]] | None = None) -> PreparedNotebook:
    """A whitelisted copy of `nb`, with `notes` (keyed by the model's cell id) attached to cells."""
    notes = notes or {}
    cells, anchors, error_cells, used = [], {}, 0, set()
    for index, cell in enumerate(nb.get("cells", [])):
        kind = cell.get("cell_type")
        original = cell.get("id")
        cell_id = original if isinstance(original, str) and _CELL_ID.fullmatch(original) else f"cell-{index}"
        candidates = itertools.chain([cell_id, f"cell-{index}"], (f"cell-{index}-{n}" for n in itertools.count(2)))
        cell_id = next(c for c in candidates if c not in used)  # no duplicate HTML anchors
        used.add(cell_id)
        source = _text(cell.get("source"))
        if kind == "code":
            outputs, errors = _clean_outputs(cell.get("outputs"))
            count = cell.get("execution_count")
            new = new_code_cell(source, execution_count=count if isinstance(count, int) else None)
            # Set after validation: a stream output has no metadata in the schema, the fold mark does.
            new.outputs = outputs
            cell_notes = []
            if errors:
                error_cells += 1
                cell_notes.append(Note("error", f"This cell raised {errors[0][:80]}"))
        elif kind == "markdown":
            new, cell_notes = new_markdown_cell(source), []
        else:
            continue  # raw cells are not shown in a feedback page
        new.id = cell_id
        for key in dict.fromkeys(k for k in (original, f"cell-{index}", cell_id) if isinstance(k, str)):
            anchors.setdefault(key, anchor_id(cell_id))
            cell_notes.extend(notes.get(key, []))
        tags = sorted({f"gr-{n.kind}" for n in cell_notes})
        new.metadata = {"tags": tags, "grader_notes": [n.__dict__ for n in dict.fromkeys(cell_notes)]}
        cells.append(new)
    clean = new_notebook()
    clean.cells = cells  # not validated: the fold marks ride on output metadata (in memory only)
    clean.metadata = {"language_info": {"name": "python"}}
    return PreparedNotebook(clean, anchors, error_cells)


# nbconvert's `basic` template (body only, no scripts, no CDN), plus cell notes and folding.
_TEMPLATE = r"""{%- extends 'basic/index.html.j2' -%}
{% block input_group -%}
{%- set notes = cell.metadata.get('grader_notes', []) -%}
{%- if notes -%}
<div class="gr-cellnotes">
{%- for note in notes -%}
{%- if note.href -%}
<a class="gr-cellnote gr-cellnote-{{ note.kind | escape_html }}"
 href="{{ note.href | escape_html }}">{{ note.text | escape_html }}</a>
{%- else -%}
<span class="gr-cellnote gr-cellnote-{{ note.kind | escape_html }}">{{ note.text | escape_html }}</span>
{%- endif -%}
{%- endfor -%}
</div>
{%- endif -%}
{{ super() }}
{%- endblock input_group %}
{#- Pygments escapes the source it highlights: no need for a (slow) second pass through bleach. -#}
{% block input %}
<div class="inner_cell">
<div class="input_area">
{{ cell.source | highlight_code(metadata=cell.metadata) }}
</div>
</div>
{%- endblock input %}
{% block data_png scoped -%}
<div class="output_png output_subarea {{ extra_class }}"><img alt="Image output of this cell"
 src="data:image/png;base64,{{ output.data['image/png'] | escape_html }}"></div>
{%- endblock data_png %}
{% block data_jpg scoped -%}
<div class="output_jpeg output_subarea {{ extra_class }}"><img alt="Image output of this cell"
 src="data:image/jpeg;base64,{{ output.data['image/jpeg'] | escape_html }}"></div>
{%- endblock data_jpg %}
{% block data_svg scoped -%}
<div class="output_svg output_subarea {{ extra_class }}"><img alt="Image output of this cell"
 src="data:image/svg+xml;base64,{{ output.data['image/svg+xml'] | text_base64 | escape_html }}"></div>
{%- endblock data_svg %}
{% block output %}
{%- set fold = output.get('metadata', {}).get('grader_fold') -%}
{%- if fold -%}
<details class="gr-fold"><summary>{{ fold | escape_html }}</summary>{{ super() }}</details>
{%- else -%}
{{ super() }}
{%- endif -%}
{% endblock output %}
"""


def _preferred_mimetype(data: dict) -> list[str]:
    """The one representation of an output to show (widget outputs are dropped by `prepare`)."""
    return [mime for mime in _DISPLAY_MIMES if mime in data][:1]


@functools.lru_cache(maxsize=1)
def _exporter():
    from jinja2 import pass_context
    from nbconvert import HTMLExporter, TemplateExporter
    from nbconvert.filters import Highlight2HTML

    highlight = Highlight2HTML(pygments_lexer="ipython3")

    @functools.lru_cache(maxsize=2048)
    def highlighted(source: str, language: str | None, metadata: str) -> str:
        return highlight(source, language, json.loads(metadata))

    class FragmentExporter(HTMLExporter):
        """HTMLExporter without its closing BeautifulSoup pass, and with memory.

        That pass only adds alt texts (our template writes them) and JupyterLab tabindex
        attributes (not in the basic template), yet it took half the time of a page. Most cells
        of a class's notebooks are the course's own, the same in every page, and highlighting
        and Markdown took most of the rest (0.5 s a page): each distinct cell is rendered once.
        """

        def from_notebook_node(self, nb, resources=None, **kw):
            return TemplateExporter.from_notebook_node(self, nb, resources, **kw)

        @pass_context
        def markdown2html(self, context, source):
            cell = context.get("cell", {})
            if cell.get("attachments"):
                return super().markdown2html(context, source)
            return self._markdown(source, context.get("resources", {}).get("metadata", {})
                                  .get("path", ""))

        @functools.lru_cache(maxsize=2048)  # noqa: B019 - one exporter per process
        def _markdown(self, source, path):
            return super().markdown2html({"cell": {}, "resources": {"metadata": {"path": path}}},
                                         source)

    return FragmentExporter(
        template_name="basic", template_file="grader_notebook.html.j2",
        extra_loaders=[DictLoader({"grader_notebook.html.j2": _TEMPLATE})],
        sanitize_html=True, embed_images=False,
        filters={"clean_html": clean_html,
                 "highlight_code": lambda source, language=None, metadata=None: highlighted(
                     source, language, json.dumps(metadata or {}, sort_keys=True, default=str)),
                 "filter_data_type": _preferred_mimetype})


def notebook_html(prepared: PreparedNotebook) -> str:
    """The prepared notebook as an HTML fragment (no <html>/<head>, no scripts)."""
    body, _resources = _exporter().from_notebook_node(prepared.notebook)
    return body


def highlight_css() -> str:
    """CSS for nbconvert's syntax highlighting (`.highlight` spans)."""
    from pygments.formatters import HtmlFormatter

    return HtmlFormatter(style="default").get_style_defs(".highlight")


__all__ = ["Note", "PreparedNotebook", "anchor_id", "clean_html", "highlight_css", "notebook_html",
           "prepare"]
