"""The executed notebook rebuilt from a whitelist, element by element, for a feedback page.

Everything in an executed notebook is student-controlled (sources, outputs, metadata), and some
of it is broken in ways nbconvert refuses: a markdown image pointing at a cell attachment that is
not in the file (the course's own notebook has three), image data that is not base64, a
mimebundle that is not a mapping, an output type nobody knows. `prepare` keeps what is sound and
turns each broken element into a small placeholder (`Lost`: what it was and why it is not shown),
so one bad piece costs that piece, never the notebook:

- cells: code and markdown cells keep their source; raw cells are not shown; a cell that is not
  a cell at all becomes a placeholder cell;
- outputs: known output types with whitelisted fields and a few display mimetypes; images must be
  valid base64 of the image type they claim; a broken output becomes a placeholder output
  (`grader_placeholder` in its metadata, drawn by the page's template);
- attachments: only valid images are kept (as `attachments`, for nbconvert); a reference to any
  other (missing or malformed) becomes a placeholder at render time (`notebook_html`).

`prepare` also marks cells for the page: cells with an error output, cells a failing check points
to (`Note`s shown above the cell), and long outputs folded into `<details>`.
"""
from __future__ import annotations

import base64
import binascii
import itertools
import re
from dataclasses import dataclass, field

import nbformat
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

DISPLAY_MIMES = ("text/html", "text/markdown", "image/svg+xml", "image/png", "image/jpeg",
                 "text/latex", "text/plain")
# Raster images a page shows inline (data: URIs the sanitizer lets through), by their first bytes.
IMAGE_MAGIC = {"image/png": (b"\x89PNG",), "image/jpeg": (b"\xff\xd8\xff",),
               "image/gif": (b"GIF87a", b"GIF89a"), "image/webp": (b"RIFF",)}
MISSING_IMAGE = "image not included in the notebook"
_CELL_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class Note:
    """A label above a notebook cell: `kind` is `error` or `check`; `href` links back to a check."""

    kind: str
    text: str
    href: str = ""


@dataclass(frozen=True)
class Lost:
    """An element of the notebook the page does not show: where (`cell`, counted from 1, as in
    Jupyter), what it was, and why."""

    cell: int
    what: str
    why: str

    def sentence(self) -> str:
        return f"cell {self.cell}: {self.what} ({self.why})"


@dataclass
class PreparedNotebook:
    notebook: nbformat.NotebookNode
    # cell id as the results model names it (the cell's id, or "cell-<index>") -> HTML anchor id
    anchors: dict[str, str]
    error_cells: int
    # What the page leaves out; rendering adds what nbconvert refused (`notebook_html`).
    lost: list[Lost] = field(default_factory=list)


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


def _is_text(value: object) -> bool:
    """A mimebundle or source value as nbformat allows it: a string or a list of strings."""
    return isinstance(value, str) or isinstance(value, list) and all(isinstance(v, str) for v in value)


def _article(word: str) -> str:
    return "an" if word[:1] in "aeiou" else "a"


def _fold_label(text: str, what: str = "output") -> str | None:
    lines = text.count("\n") + (0 if text.endswith("\n") else 1)
    if lines > FOLD_LINES or len(text) > FOLD_CHARS:
        return f"Long {what}: {lines:,} lines, {len(text):,} characters (tap to show)"
    return None


def image_problem(mime: str, value: object) -> str | None:
    """Why base64 `value` cannot be shown as a `mime` image, or None when it can."""
    if not _is_text(value):
        return f"its {mime} data is {type(value).__name__}, not text"
    text = _SPACE.sub("", _text(value))
    if len(text) > MAX_IMAGE_CHARS:
        return f"{mime} of {len(text) // 1024:,} KiB, too large for this page"
    try:
        head = base64.b64decode(text[:64], validate=True) if text else b""
        if len(text) % 4 or not re.fullmatch(r"[A-Za-z0-9+/]*={0,2}", text):
            raise binascii.Error
    except (binascii.Error, ValueError):
        return f"its {mime} data is not valid base64"
    if not head.startswith(IMAGE_MAGIC.get(mime, (b"",))):
        return f"its data is not a {mime.split('/')[1].upper()} image"
    return None


def _placeholder(text: str) -> nbformat.NotebookNode:
    """An output the page draws as a placeholder (the template reads `grader_placeholder`)."""
    new = new_output("display_data", data={"text/plain": text})
    new.metadata = {"grader_placeholder": text}
    return new


def _display(output: dict, kind: str, cell: int, lost: list[Lost]) -> nbformat.NotebookNode | None:
    """An execute_result or display_data output: the shown mimetypes, or a placeholder."""
    data = output.get("data")
    if not isinstance(data, dict):
        lost.append(Lost(cell, f"{_article(kind)} {kind} output", f"its data is {type(data).__name__}, not a mimebundle"))
        return _placeholder("output not shown (its data is broken)")
    clean, too_big, broken, broken_image = {}, 0, [], False
    for mime in DISPLAY_MIMES:
        value = data.get(mime)
        if value is None:
            continue
        if not _is_text(value):
            broken.append(f"its {mime} is {type(value).__name__}, not text")
            continue
        value = _text(value)
        if mime in ("image/png", "image/jpeg"):
            problem = image_problem(mime, value)
            if problem and "too large" in problem:
                too_big = max(too_big, len(value))
                continue
            if problem:
                broken.append(problem)
                broken_image = True
                continue
        elif mime == "image/svg+xml" and len(value) > MAX_IMAGE_CHARS:
            too_big = max(too_big, len(value))
            continue
        clean[mime] = value if mime.startswith("image/") else _cut(value)
    if too_big and not any(m.startswith("image/") for m in clean):
        clean["text/plain"] = f"[an image of {too_big // 1024:,} KiB is left out of this page]"
    if broken:
        lost.append(Lost(cell, f"{_article(kind)} {kind} output", "; ".join(broken)))
        if broken_image and not any(m.startswith("image/") for m in clean):
            return _placeholder(f"{MISSING_IMAGE} ({broken[0]})")
        if not clean:
            return _placeholder(f"output not shown ({broken[0]})")
    if not clean:
        return None
    new = new_output(kind, data=clean)
    if kind == "execute_result":
        count = output.get("execution_count")
        new.execution_count = count if isinstance(count, int) else None
    return new


def _clean_outputs(outputs: object, cell: int, lost: list[Lost]) -> tuple[list, list[str]]:
    """Known output types with whitelisted fields; returns the outputs and the error names."""
    clean, errors = [], []
    if not isinstance(outputs, list):
        if outputs:
            lost.append(Lost(cell, "the outputs", f"{type(outputs).__name__}, not a list"))
            clean.append(_placeholder("outputs not shown (they are broken)"))
        return clean, errors
    for output in outputs:
        kind = output.get("output_type") if isinstance(output, dict) else None
        fold = None
        if kind == "stream":
            text = _cut(_text(output.get("text")))
            name = output.get("name") if output.get("name") in ("stdout", "stderr") else "stdout"
            new = new_output("stream", name=name, text=text)
            fold = _fold_label(text)
        elif kind == "error":
            traceback = output.get("traceback")
            traceback = [_text(line) for line in traceback] if isinstance(traceback, list) else []
            joined = _cut("\n".join(traceback))
            traceback = joined.split("\n")
            ename, evalue = _text(output.get("ename")), _text(output.get("evalue"))
            new = new_output("error", ename=ename, evalue=evalue, traceback=traceback or [f"{ename}: {evalue}"])
            errors.append(clean_text(ename) or "an error")
            if len(traceback) > FOLD_TRACEBACK_LINES:
                fold = f"Traceback, {len(traceback):,} lines: {clean_text(ename)}: {clean_text(evalue)[:160]}"
        elif kind in ("execute_result", "display_data"):
            new = _display(output, kind, cell, lost)
            if new is None:
                continue
            if "grader_placeholder" not in new.get("metadata", {}):
                data = new.data
                shown = next((data[m] for m in ("text/html", "text/markdown", "text/plain") if m in data), "")
                fold = None if any(m.startswith("image/") for m in data) else _fold_label(shown)
        else:
            what = repr(clean_text(str(kind))[:40]) if kind is not None else "none"
            lost.append(Lost(cell, "an output", f"unknown output type {what}"))
            new = _placeholder(f"output not shown (unknown output type {what})")
        if fold:
            new.metadata = {"grader_fold": fold}
        clean.append(new)
    return clean, errors


def attachments(cell: dict) -> dict[str, dict[str, str]]:
    """A markdown cell's attachments that can be shown: one valid raster image each. Those left
    out are recorded when a reference to them is rendered (`notebook_html`), not here: an
    attachment nobody shows loses nothing."""
    found = cell.get("attachments")
    if not isinstance(found, dict):
        return {}
    usable = {}
    for name, bundle in found.items():
        if not isinstance(name, str) or not isinstance(bundle, dict):
            continue
        for mime in IMAGE_MAGIC:
            if mime in bundle and image_problem(mime, bundle[mime]) is None:
                usable[name] = {mime: _SPACE.sub("", _text(bundle[mime]))}
                break
    return usable


def prepare(nb: nbformat.NotebookNode, notes: dict[str, list[Note]] | None = None) -> PreparedNotebook:
    """A whitelisted copy of `nb`, with `notes` (keyed by the model's cell id) attached to cells."""
    notes = notes or {}
    cells, anchors, error_cells, used, lost = [], {}, 0, set(), []
    raw_cells = nb.get("cells", [])
    for index, cell in enumerate(raw_cells if isinstance(raw_cells, list) else []):
        if not isinstance(cell, dict):
            cell = {"cell_type": "not a cell"}
        kind = cell.get("cell_type")
        original = cell.get("id")
        cell_id = original if isinstance(original, str) and _CELL_ID.fullmatch(original) else f"cell-{index}"
        candidates = itertools.chain([cell_id, f"cell-{index}"], (f"cell-{index}-{n}" for n in itertools.count(2)))
        cell_id = next(c for c in candidates if c not in used)  # no duplicate HTML anchors
        used.add(cell_id)
        source = _text(cell.get("source"))
        cell_notes = []
        if kind == "code":
            outputs, errors = _clean_outputs(cell.get("outputs"), index + 1, lost)
            count = cell.get("execution_count")
            new = new_code_cell(source, execution_count=count if isinstance(count, int) else None)
            # Set after validation: a stream output has no metadata in the schema, the fold mark does.
            new.outputs = outputs
            if errors:
                error_cells += 1
                cell_notes.append(Note("error", f"This cell raised {errors[0][:80]}"))
        elif kind == "markdown":
            new = new_markdown_cell(source)
            usable = attachments(cell)
            if usable:
                new.attachments = usable
            found = cell.get("attachments")
            unusable = sorted(n for n in found if n not in usable) if isinstance(found, dict) else []
            if unusable:
                new.metadata = {"grader_unusable": unusable}
        elif kind == "raw":
            continue  # raw cells are not shown in a feedback page
        else:
            what = repr(clean_text(str(kind))[:40]) if kind is not None else "none"
            new = new_markdown_cell("")  # recorded as lost when rendered
            new.metadata = {"grader_placeholder": f"cell not shown (unknown cell type {what})"}
        new.id = cell_id
        for key in dict.fromkeys(k for k in (original, f"cell-{index}", cell_id) if isinstance(k, str)):
            anchors.setdefault(key, anchor_id(cell_id))
            cell_notes.extend(notes.get(key, []))
        tags = sorted({f"gr-{n.kind}" for n in cell_notes})
        # grader_index: the cell's number, for what rendering finds it cannot show
        new.metadata = {**new.get("metadata", {}), "tags": tags, "grader_index": index + 1,
                        "grader_notes": [n.__dict__ for n in dict.fromkeys(cell_notes)]}
        cells.append(new)
    clean = new_notebook()
    clean.cells = cells  # not validated: the fold marks ride on output metadata (in memory only)
    clean.metadata = {"language_info": {"name": "python"}}
    return PreparedNotebook(clean, anchors, error_cells, lost)
