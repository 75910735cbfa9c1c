"""The executed notebook as an HTML fragment for a feedback page: sanitized, self-contained.

The notebook is first rebuilt from a whitelist (`notebook_prepare.prepare`): what is sound
survives, each broken element becomes a placeholder. nbconvert's `basic` template then renders
it with `sanitize_html` on and its `clean_html` filter replaced by `clean_html` below (bleach with
a reading-friendly whitelist: headings, tables and `data:` images stay; scripts, styles, iframes,
event handlers and remote URLs go). The feedback page adds a Content-Security-Policy that forbids
scripts and every fetch, so anything this sanitizer missed still cannot run or load.

Rendering degrades per element, never per notebook: a markdown image whose attachment is missing
or unusable becomes a placeholder ("image not included in the notebook"), a markdown cell that
fails to render is shown as plain text, and if the notebook as a whole still fails, each cell is
rendered on its own (a cell that fails shows its source as plain text). Placeholders reach the
page through markers only this process knows (bleach would strip the page's own classes from
anything that passes through it), and every one is recorded in `PreparedNotebook.lost`.
"""
from __future__ import annotations

import contextvars
import functools
import html as html_lib
import json
import re
import secrets

import nbformat
from bleach.sanitizer import Cleaner
from jinja2 import DictLoader

from .notebook_prepare import (DISPLAY_MIMES, MAX_IMAGE_CHARS, MISSING_IMAGE, Lost, Note,
                               PreparedNotebook, anchor_id, prepare)
from .text import clean_text

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
{%- set placeholder = output.get('metadata', {}).get('grader_placeholder') -%}
{%- set fold = output.get('metadata', {}).get('grader_fold') -%}
{%- if placeholder -%}
<div class="output_area"><div class="prompt"></div>
<div class="output_subarea gr-placeholder">{{ placeholder | escape_html }}</div></div>
{%- elif fold -%}
<details class="gr-fold"><summary>{{ fold | escape_html }}</summary>{{ super() }}</details>
{%- else -%}
{{ super() }}
{%- endif -%}
{% endblock output %}
"""


def _highlight_key(metadata: dict | None) -> str:
    """The cell metadata that highlighting reads, as a cache key (the page's own marks are not)."""
    kept = {k: v for k, v in (metadata or {}).items() if not k.startswith("grader_")}
    return json.dumps(kept, sort_keys=True, default=str)


def _preferred_mimetype(data: dict) -> list[str]:
    """The one representation of an output to show (widget outputs are dropped by `prepare`)."""
    return [mime for mime in DISPLAY_MIMES if mime in data][:1]


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
            metadata = cell.get("metadata", {})
            index = metadata.get("grader_index", 0)
            if metadata.get("grader_placeholder"):
                return _mark(Lost(index, "a cell", metadata["grader_placeholder"]),
                             metadata["grader_placeholder"])
            path = context.get("resources", {}).get("metadata", {}).get("path", "")
            try:
                if "attachment:" in source:  # rare: never cached, attachments are large
                    return self._attached(source, cell, index, path)
                return self._markdown(source, path)
            except Exception as exc:  # noqa: BLE001 - this text only: shown as plain text
                note = _mark(Lost(index, "markdown text", f"it could not be rendered "
                                  f"({type(exc).__name__}); shown as plain text"),
                             "This text cell could not be rendered; here it is as plain text.")
                return f"<p>{note}</p><pre>{html_lib.escape(source, quote=False)}</pre>"

        @functools.lru_cache(maxsize=2048)  # noqa: B019 - one exporter per process
        def _markdown(self, source, path):
            return super().markdown2html({"cell": {}, "resources": {"metadata": {"path": path}}},
                                         source)

        def _attached(self, source, cell, index, path):
            """Markdown with `attachment:` images: a missing or unusable one is a placeholder."""
            renderer = _AttachmentRenderer(
                escape=False, attachments=dict(cell.get("attachments") or {}), index=index,
                unusable=cell.get("metadata", {}).get("grader_unusable", ()), path=path,
                embed_images=False, anchor_link_text=self.anchor_link_text,
                exclude_anchor_links=self.exclude_anchor_links, **self.lexer_options)
            return MarkdownWithMath(renderer=renderer).render(source)

    from nbconvert.filters.markdown_mistune import IPythonRenderer, MarkdownWithMath

    class _AttachmentRenderer(IPythonRenderer):
        """nbconvert's renderer, with a placeholder for an attachment it would refuse."""

        def __init__(self, *, index: int, unusable=(), **kwargs):
            super().__init__(**kwargs)
            self.index, self.unusable = index, frozenset(unusable)

        def _lost(self, name: str, alt: str) -> str:
            why = ("its attachment is not a valid image" if name in self.unusable
                   else "its attachment is not in the notebook")
            label = clean_text(html_lib.unescape(alt or "")).strip() or name
            return _mark(Lost(self.index, f"an image ({label[:80]})", why),
                         f"{MISSING_IMAGE} ({label[:80]})")

        def image(self, text, url, title=None):
            name = url[len("attachment:"):] if url.startswith("attachment:") else None
            if name is not None and name not in self.attachments:
                return self._lost(name, text)
            return super().image(text, url, title)

        def _html_images(self, html: str) -> str:
            def swap(match: re.Match) -> str:
                name = html_lib.unescape(match["name"])
                if name in self.attachments:
                    mime, data = next(iter(self.attachments[name].items()))
                    return match[0].replace(match["src"], f"data:{mime};base64,{data}")
                alt = re.search(r"\balt\s*=\s*([\"'])(.*?)\1", match[0], re.DOTALL)
                return self._lost(name, alt[2] if alt else "")
            return _HTML_ATTACHMENT.sub(swap, html)

        def block_html(self, html: str) -> str:
            return super().block_html(self._html_images(html))

        def inline_html(self, html: str) -> str:
            return super().inline_html(self._html_images(html))

    return FragmentExporter(
        template_name="basic", template_file="grader_notebook.html.j2",
        extra_loaders=[DictLoader({"grader_notebook.html.j2": _TEMPLATE})],
        sanitize_html=True, embed_images=False,
        filters={"clean_html": clean_html,
                 "highlight_code": lambda source, language=None, metadata=None: highlighted(
                     source, language, _highlight_key(metadata)),
                 "filter_data_type": _preferred_mimetype})


# Placeholders reach the page as markers only this process knows: student text cannot forge one,
# and bleach, which strips the page's own classes from student HTML, leaves them alone.
_MARK = f"grmark{secrets.token_hex(8)}"
_MARKER = re.compile(rf"{_MARK}(\d+)x")
_HTML_ATTACHMENT = re.compile(
    r"<img\b[^>]*?\bsrc\s*=\s*([\"'])(?P<src>attachment:(?P<name>[^\"']*))\1[^>]*>",
    re.IGNORECASE | re.DOTALL)
_PLACEHOLDERS: contextvars.ContextVar[list[tuple[Lost, str]] | None] = contextvars.ContextVar(
    "placeholders", default=None)


def _mark(lost: Lost, text: str) -> str:
    """A marker for a placeholder saying `text`, recorded with what was lost, in this render."""
    found = _PLACEHOLDERS.get()
    if found is None:
        raise RuntimeError("placeholders outside notebook_html")
    found.append((lost, text))
    return f"{_MARK}{len(found) - 1}x"


def _placeholder_html(text: str) -> str:
    return f'<span class="gr-placeholder">{html_lib.escape(text, quote=False)}</span>'


def _render(nb: nbformat.NotebookNode) -> tuple[str, list[tuple[Lost, str]]]:
    """nbconvert's HTML of `nb`, markers resolved; and what its placeholders stand for."""
    token = _PLACEHOLDERS.set([])
    try:
        body, _resources = _exporter().from_notebook_node(nb)
        found = _PLACEHOLDERS.get()
    finally:
        _PLACEHOLDERS.reset(token)
    if found:
        body = _MARKER.sub(lambda m: _placeholder_html(found[int(m[1])][1])
                           if int(m[1]) < len(found) else "", body)
    return body, found


def _plain_cell(cell: nbformat.NotebookNode, anchor: str) -> str:
    """A cell nbconvert refused, as plain text (its anchor and marks kept, so links still work)."""
    tags = "".join(f" celltag_{html_lib.escape(tag)}" for tag in cell.get("metadata", {}).get("tags", []))
    note = "This cell could not be rendered; here is its text."
    return (f'<div id="{html_lib.escape(anchor)}" class="cell border-box-sizing rendered{tags}">\n'
            f'<div class="inner_cell">{_placeholder_html(note)}\n'
            f'<pre>{html_lib.escape(clean_text(cell.get("source", "")), quote=False)}</pre></div>\n</div>\n')


def notebook_html(prepared: PreparedNotebook) -> str:
    """The prepared notebook as an HTML fragment (no <html>/<head>, no scripts); what it could
    not show is added to `prepared.lost`.

    When nbconvert refuses the notebook as a whole, each cell is rendered on its own and a cell
    it still refuses is shown as plain text; only when not one cell renders does this raise.
    """
    try:
        body, found = _render(prepared.notebook)
    except Exception:  # noqa: BLE001 - try each cell on its own
        parts, found, failures = [], [], 0
        for index, cell in enumerate(prepared.notebook.cells):
            single = nbformat.from_dict({**prepared.notebook, "cells": [cell]})
            try:
                part, lost = _render(single)
            except Exception as exc:  # noqa: BLE001 - this cell only
                failures += 1
                number = cell.get("metadata", {}).get("grader_index", index + 1)
                part, lost = _plain_cell(cell, anchor_id(cell.get("id", f"cell-{index}"))), [
                    (Lost(number, f"a {cell.get('cell_type', '')} cell",
                          f"it could not be rendered ({type(exc).__name__}); shown as plain text"), "")]
            parts.append(part)
            found.extend(lost)
        if prepared.notebook.cells and failures == len(prepared.notebook.cells):
            raise
        body = "".join(parts)
    prepared.lost.extend(lost for lost, _text in found)
    return body


def highlight_css() -> str:
    """CSS for nbconvert's syntax highlighting (`.highlight` spans)."""
    from pygments.formatters import HtmlFormatter

    return HtmlFormatter(style="default").get_style_defs(".highlight")


__all__ = ["MAX_IMAGE_CHARS", "Lost", "Note", "PreparedNotebook", "anchor_id", "clean_html",
           "highlight_css", "notebook_html", "prepare"]
