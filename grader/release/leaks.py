"""Prove a student release holds no solution: `find_leaks(DIR)` lists every leak it finds.

What counts as a solution:
- the code of every solution region of the reference (`# BEGIN SOLUTION` ... `# END SOLUTION`);
- every fixture notebook (`fixtures/**/*.ipynb`: right answers in other styles, single
  mistakes): a file holding at least half of the statements it has and the template has not;
- any file of `reference/` or `fixtures/` itself, byte for byte.

Code is compared statement by statement, normalized: parsed (as IPython runs a cell), so
whitespace, comments, quotes and parentheses do not matter, and with every name that is not a
builtin renamed in order of first use within the statement, so renamed local variables do not
matter either (`rng = np.random.default_rng(seed)` and `g = numpy.random.default_rng(s)` are one
statement). A compound statement counts by its header (`for array in array_list:`). Statements
the template has too (course code every student gets) are not secrets, and small ones
(`return x`) are too common to prove anything: a statement proves a leak alone when it is large
(`ALONE` nodes) or holds a telling constant (a number of 4+ digits: a date, a size),
and otherwise only with a second statement of the same region in the same piece of text.

Where it looks: every file in DIR; inside a wheel or zip, every member; in a notebook every cell
(code, markdown, outputs); in Python every statement and, recursively, every string (docstrings);
in JSON every string; in any text each paragraph and each logical line (backslash continuations
joined), also with comment and prompt markers (`#`, `>>>`) taken off, each inline code span and
each fenced code block.
"""
from __future__ import annotations

import ast
import builtins
import copy
import hashlib
import io
import json
import re
import textwrap
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

import nbformat

from grader.notebook.markers import solution_regions, strip_notebook
from grader.course import REFERENCE

ROOT = REFERENCE.parent.parent
FIXTURES = ROOT / "fixtures"
DISTINCT, ALONE = 6, 8  # AST nodes (contexts not counted) of a telling statement / of a proof alone
_BUILTINS = frozenset(dir(builtins))
_FENCE = re.compile(r"```[^\n]*\n(.*?)```", re.DOTALL)
_INLINE = re.compile(r"`([^`\n]+)`")
_COMMENT = re.compile(r"^(\s*)(?:#+ ?|>>> ?|\.\.\. ?)")
_LINE_PREFIX = re.compile(r"^\s*(?:#+|>>>|\.\.\.|[-*+]|\d+\.)?\s*")
MAX_DEPTH = 3  # strings inside code inside strings...
REGION = "solution region "  # the name of a region's secret: REGION + its label
FIXTURE_SHARE, FIXTURE_MIN = 0.5, 3  # a fixture notebook is in a file when this much of it is


@dataclass(frozen=True)
class Leak:
    where: str  # the file in the release (and member / cell)
    source: str  # the solution it comes from: a region label or a file of reference/ or fixtures/
    code: str  # what was found, as normalized code

    def __str__(self) -> str:
        return f"{self.where}: solution code of {self.source}: {self.code}"


@dataclass(frozen=True)
class Fingerprint:
    key: str  # ast.dump of the normalized statement
    code: str  # ast.unparse of it, for messages
    weight: int
    telling: bool  # a constant that identifies it

    @property
    def alone(self) -> bool:
        return self.weight >= ALONE or self.telling


# -- normalization ---------------------------------------------------------------------------

_BLOCKS = frozenset({"body", "orelse", "finalbody", "handlers", "cases", "decorator_list"})
_SKIP = frozenset({"annotation", "returns", "type_comment", "type_params"})


class _Normal:
    """A statement's header as a string, names renamed in order of first use (see the module)."""

    def __init__(self) -> None:
        self.names: dict[str, str] = {}
        self.parts: list[str] = []
        self.weight = 0
        self.telling = False

    def name(self, name: str) -> str:
        return name if name in _BUILTINS else self.names.setdefault(name, f"v{len(self.names)}")

    def visit(self, node: ast.AST, top: bool = False) -> None:
        if isinstance(node, ast.expr_context):
            return
        self.weight += 1
        if isinstance(node, ast.Name):
            self.parts.append(f"N:{self.name(node.id)}")
            return
        if isinstance(node, ast.arg):
            self.parts.append(f"A:{self.name(node.arg)}")
            return
        if isinstance(node, ast.Constant):
            value = node.value
            self.telling |= (isinstance(value, (int, float)) and not isinstance(value, bool)
                             and abs(value) >= 1000)
            self.parts.append(f"C:{value!r}")
            return
        self.parts.append(type(node).__name__ + "(")
        for field, value in ast.iter_fields(node):
            if field in _SKIP or (top and field in _BLOCKS):
                continue
            for item in value if isinstance(value, list) else [value]:
                if isinstance(item, ast.AST):
                    self.visit(item)
                else:
                    self.parts.append(repr(item))
            self.parts.append(",")
        self.parts.append(")")


def _shown_code(stmt: ast.stmt) -> str:
    header = copy.copy(stmt)
    for field in _BLOCKS & set(header._fields):
        setattr(header, field, [])
    try:
        return ast.unparse(header).strip().split("\n")[0]
    except Exception:  # noqa: BLE001 - unparse of a header without its block is best effort
        return type(stmt).__name__


def fingerprint(stmt: ast.stmt) -> Fingerprint:
    normal = _Normal()
    normal.visit(stmt, top=True)
    return Fingerprint("".join(normal.parts), _shown_code(stmt), normal.weight, normal.telling)


def _python(source: str) -> str:
    from IPython.core.inputtransformer2 import TransformerManager

    try:
        return TransformerManager().transform_cell(source)
    except Exception:  # noqa: BLE001 - IPython's transformer raises various errors on odd input
        return source


_MAGIC = re.compile(r"^\s*[%!]", re.MULTILINE)


def _parse(source: str) -> ast.Module | None:
    for text in (source, _python(source)) if _MAGIC.search(source) else (source,):
        try:
            return ast.parse(textwrap.dedent(text))
        except (SyntaxError, ValueError, MemoryError, RecursionError):
            continue
    return None


def statements(source: str) -> list[ast.stmt]:
    """Every statement of `source` at every depth ([] if it does not parse)."""
    tree = _parse(source)
    return [n for n in ast.walk(tree) if isinstance(n, ast.stmt)] if tree else []


def fingerprints(source: str) -> list[Fingerprint]:
    return [fingerprint(s) for s in statements(source)]


# -- what is secret --------------------------------------------------------------------------

def _region_code(nb, region) -> str:
    lines = nb.cells[region.cell_index].source.split("\n")
    return "\n".join(lines[region.start:region.end - 1])


def _cell_body(source: str) -> str:
    """A cell magic's body (`%%time` runs it in the namespace), else the cell itself."""
    return source.split("\n", 1)[1] if source.startswith("%%") and "\n" in source else source


def secrets(reference: Path = REFERENCE, fixtures: Path = FIXTURES) -> dict[str, list[Fingerprint]]:
    """Solution name -> its telling fingerprints (see the module), the template's removed."""
    nb = nbformat.read(Path(reference), as_version=4)
    template = strip_notebook(nb)
    public = {fp.key for cell in template.cells if cell.cell_type == "code"
              for fp in fingerprints(cell.source)}
    found: dict[str, list[Fingerprint]] = {}
    for region in solution_regions(nb):
        found[f"{REGION}{region.label}"] = fingerprints(_region_code(nb, region))
    for path in sorted(Path(fixtures).rglob("*.ipynb")) if Path(fixtures).is_dir() else []:
        try:
            fixture = nbformat.read(path, as_version=4)
        except Exception:  # noqa: BLE001 - malformed fixtures are byte-compared only
            continue
        found[_shown(path)] = [fp for cell in fixture.cells if cell.cell_type == "code"
                               for fp in fingerprints(_cell_body(cell.source))]
    telling = {}
    for name, fps in found.items():
        unique = {fp.key: fp for fp in fps if fp.key not in public and (fp.weight >= DISTINCT or fp.telling)}
        if unique:
            telling[name] = list(unique.values())
    return telling


def _shown(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def _file_hashes(*folders: Path) -> dict[str, str]:
    hashes = {}
    for folder in folders:
        for path in sorted(Path(folder).rglob("*")) if Path(folder).is_dir() else []:
            if path.is_file():
                hashes[hashlib.sha256(path.read_bytes()).hexdigest()] = _shown(path)
    return hashes


# -- where to look ---------------------------------------------------------------------------

def _members(name: str, data: bytes) -> Iterator[tuple[str, bytes]]:
    """(name, bytes) of a file and, for a wheel or zip, of each member (nested too)."""
    yield name, data
    if zipfile.is_zipfile(io.BytesIO(data)):
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for info in archive.infolist():
                if not info.is_dir():
                    yield from _members(f"{name}:{info.filename}", archive.read(info))


def _logical_lines(lines: list[str]) -> Iterator[str]:
    """Lines with backslash continuations joined."""
    held = ""
    for line in lines:
        if line.rstrip().endswith("\\"):
            held += line.rstrip()[:-1] + " "
            continue
        yield held + line
        held = ""
    if held:
        yield held


def _paragraphs(lines: list[str]) -> Iterator[str]:
    block: list[str] = []
    for line in lines + [""]:
        if line.strip():
            block.append(line)
        elif block:
            yield textwrap.dedent("\n".join(block))
            block = []


def _line_fragments(text: str) -> Iterator[str]:
    """Fenced blocks, inline code spans, paragraphs and logical lines of `text`, also with
    comment or prompt markers (`#`, `>>>`, `...`) taken off each line."""
    yield from _FENCE.findall(text)
    yield from _INLINE.findall(text)
    raw = text.splitlines()
    uncommented = [_COMMENT.sub(r"\1", line, count=1) for line in raw]
    for lines in (raw, uncommented) if uncommented != raw else (raw,):
        yield from _paragraphs(lines)
        for line in _logical_lines(lines):
            line = _LINE_PREFIX.sub("", line, count=1).rstrip()
            if line:
                yield line + " pass" if line.endswith(":") else line


def _code_texts(text: str, depth: int = 0) -> Iterator[str]:
    """Pieces of `text` that may be code: itself, its blocks and lines, strings inside it."""
    yield text
    yield from _line_fragments(text)
    tree = _parse(text)
    if tree is not None and depth < MAX_DEPTH:
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and "\n" in node.value:
                yield from _code_texts(node.value, depth + 1)


def _json_strings(value) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _json_strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _json_strings(item)


def _texts(name: str, data: bytes) -> Iterator[tuple[str, str]]:
    """(where, text) of every piece of a file that may hold code."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return
    if name.endswith(".ipynb"):
        try:
            nb = nbformat.reads(text, as_version=4)
        except Exception:  # noqa: BLE001 - not a notebook after all: read as text below
            nb = None
        if nb is not None:
            for index, cell in enumerate(nb.cells):
                where = f"{name} cell {index + 1} ({cell.get('id', '')})"
                yield where, cell.source
                for output in cell.get("outputs", []):
                    yield where, json.dumps(output)
            return
    if name.endswith(".json"):
        try:
            for string in _json_strings(json.loads(text)):
                yield name, string
            return
        except ValueError:
            pass
    yield name, text


def _found(text: str) -> dict[str, Fingerprint]:
    """The fingerprints of every piece of `text` that parses (see `_code_texts`)."""
    found: dict[str, Fingerprint] = {}
    for piece in _code_texts(text):
        for fp in fingerprints(piece):
            found.setdefault(fp.key, fp)
    return found


def scan_text(where: str, text: str, secret: dict[str, list[Fingerprint]]) -> list[Leak]:
    """Leaks of solution regions in one piece of text (see the module for the rule)."""
    return _region_leaks(where, _found(text), secret)


def _region_leaks(where: str, found: dict[str, Fingerprint],
                  secret: dict[str, list[Fingerprint]]) -> list[Leak]:
    leaks = []
    for source, fps in secret.items():
        hits = [fp for fp in fps if fp.key in found]
        if any(fp.alone for fp in hits) or len(hits) >= 2:
            leaks.append(Leak(where, source, "; ".join(fp.code for fp in hits)))
    return leaks


def _fixture_copies(where: str, found: dict[str, Fingerprint],
                    fixtures: dict[str, list[Fingerprint]]) -> list[Leak]:
    """A fixture notebook (or most of it) in one file: most of its own statements are there."""
    leaks = []
    for source, fps in fixtures.items():
        hits = [fp for fp in fps if fp.key in found]
        if len(hits) >= max(FIXTURE_MIN, FIXTURE_SHARE * len(fps)):
            leaks.append(Leak(where, source, f"{len(hits)} of its {len(fps)} statements"))
    return leaks


def find_leaks(out: Path, *, reference: Path = REFERENCE, fixtures: Path = FIXTURES) -> list[Leak]:
    """Every leak of a solution into the files under `out` ([] for a clean release)."""
    secret = secrets(reference, fixtures)
    regions = {name: fps for name, fps in secret.items() if name.startswith(REGION)}
    notebooks = {name: fps for name, fps in secret.items() if not name.startswith(REGION)}
    copies = _file_hashes(Path(reference).parent, fixtures)
    leaks: list[Leak] = []
    for path in sorted(Path(out).rglob("*")):
        if not path.is_file():
            continue
        for name, data in _members(str(path.relative_to(out)), path.read_bytes()):
            copy = copies.get(hashlib.sha256(data).hexdigest())
            if copy:
                leaks.append(Leak(name, copy, "the whole file"))
                continue
            in_file: dict[str, Fingerprint] = {}
            for where, text in _texts(name, data):
                found = _found(text)
                leaks.extend(_region_leaks(where, found, regions))
                in_file.update(found)
            leaks.extend(_fixture_copies(name, in_file, notebooks))
    return _unique(leaks)


def _unique(leaks: Iterable[Leak]) -> list[Leak]:
    return list(dict.fromkeys(leaks))
