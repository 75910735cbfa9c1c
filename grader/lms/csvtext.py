"""A platform's CSV file, edited cell by cell and otherwise left byte for byte as it came.

A gradebook file goes back into the platform it came from, so everything we do not fill must
stay exactly as the platform wrote it: its byte-order mark, its line ends (CRLF or LF, even mixed),
its quoting (a quoted field that needs no quotes stays quoted), trailing commas, a last line with
or without a line end. `CsvText.read` splits the text into records and fields (RFC 4180: quoted
fields may hold commas, doubled quotes and line breaks) and remembers where each field's raw text
lies; `CsvText.edited` replaces the raw text of the given cells only, quoting a new value when it
needs quotes or the cell it replaces was quoted. Standard library only.
"""
from __future__ import annotations

import codecs
import re
from dataclasses import dataclass
from pathlib import Path


class CsvError(ValueError):
    """A file that is not a readable CSV; the message says what to do."""


@dataclass(frozen=True)
class Field:
    value: str
    start: int  # the raw text of the field is text[start:end] (quotes included)
    end: int


@dataclass
class CsvText:
    text: str
    bom: bool
    records: list[list[Field]]

    @classmethod
    def read(cls, path: Path) -> CsvText:
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise CsvError(f"{path} cannot be read: {exc.strerror or exc}") from None
        return cls.read_bytes(raw, path.name)

    @classmethod
    def read_bytes(cls, raw: bytes, name: str = "the file") -> CsvText:
        bom = raw.startswith(codecs.BOM_UTF8)
        try:
            text = raw[len(codecs.BOM_UTF8) if bom else 0:].decode("utf-8")
        except UnicodeDecodeError as exc:
            raise CsvError(f"{name} is not UTF-8 text (byte {exc.start}): download it again "
                           "from the platform, or save it from a spreadsheet as 'CSV UTF-8'") from None
        return cls(text, bom, parse(text, name))

    def rows(self) -> list[list[str]]:
        return [[f.value for f in record] for record in self.records]

    def edited(self, cells: dict[tuple[int, int], str]) -> bytes:
        """The file with cell (record, column) set to each value; every other byte as read."""
        pieces, at = [], 0
        for (row, column), value in sorted(cells.items()):
            record = self.records[row]
            if column < len(record):
                start, end = record[column].start, record[column].end
                # a record of one empty field would read back as an empty line: quote it
                raw = quoted(value, always=self.text.startswith('"', start) or len(record) == 1)
            else:  # a short record: pad it with empty fields up to the column
                start = end = record[-1].end
                raw = "," * (column - len(record) + 1) + quoted(value)
            pieces += [self.text[at:start], raw]
            at = end
        pieces.append(self.text[at:])
        return (codecs.BOM_UTF8 if self.bom else b"") + "".join(pieces).encode("utf-8")


def quoted(value: str, always: bool = False) -> str:
    """`value` as a CSV field: quoted when it holds a comma, a quote, a line break or edge
    spaces, or `always` (the cell it replaces was quoted: Moodle quotes every field)."""
    if always or any(c in value for c in ',"\r\n') or value != value.strip():
        return '"' + value.replace('"', '""') + '"'
    return value


def parse(text: str, name: str = "the file") -> list[list[Field]]:
    """The records of `text`, each a list of fields with their raw spans."""
    records: list[list[Field]] = []
    record: list[Field] = []
    i, n = 0, len(text)
    while i < n:
        start = i
        if text[i] == '"':
            value, i = [], i + 1
            while True:
                close = text.find('"', i)
                if close < 0:
                    line = text.count("\n", 0, start) + 1
                    raise CsvError(f"{name}: a quoted field opened on line {line} is never closed; "
                                   "download the file again from the platform")
                value.append(text[i:close])
                if text.startswith('""', close):
                    value.append('"')
                    i = close + 2
                    continue
                i = close + 1
                break
            # tolerate text after the closing quote up to the separator, as spreadsheets do
            stop = _field_end(text, i)
            field_value = "".join(value) + text[i:stop]
            i = stop
        else:
            i = _field_end(text, i)
            field_value = text[start:i]
        record.append(Field(field_value, start, i))
        if i < n and text[i] == ",":
            i += 1
            if i == n:  # a trailing comma at the very end: one more empty field
                record.append(Field("", i, i))
            elif text[i] in "\r\n":
                record.append(Field("", i, i))
            else:
                continue
        if i < n and text[i] in "\r\n":
            i += 2 if text.startswith("\r\n", i) else 1
        records.append(record)
        record = []
    return records


_END = re.compile(r"[,\r\n]")


def _field_end(text: str, i: int) -> int:
    """Where an unquoted field (or a quoted field's tail) starting at `i` ends."""
    found = _END.search(text, i)
    return found.start() if found else len(text)
