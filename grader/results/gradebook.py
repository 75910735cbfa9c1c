"""The SQLite gradebook: every result is committed the moment its submission finishes.

Keyed by the notebook's content hash and the grading fingerprint (grader version, rubric, options
that change verdicts), so a rerun after an interruption, or with unchanged files, grades only
what is new. A result the grader is to blame for (`SubmissionResult.grader_fault`: a process
that could not start, a broken environment) is never kept: a rerun grades it again. WAL mode keeps a reader (the exporter) and the writer out of each other's way, and a
SIGKILL loses at most the submission that was being graded.

`in_flight` marks a submission while it is graded (`started`, from the grading process: the batch's
own or a pool process); its result (`record`) or a clean end of the batch (`settled`,
`settle_since`) removes the mark. A mark outlives only a death that runs no `finally` (SIGKILL, the
OOM killer, power loss), so the next run finds what was being graded when the batch died
(`left_in_flight`; `grader.resume` decides what to do with it). The table came after schema 1 and
is created where it is missing: an older gradebook opens unchanged.
"""
from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from .model import SubmissionResult

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS results (
    submission  TEXT NOT NULL,
    sha256      TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    result      TEXT NOT NULL,
    graded_at   REAL NOT NULL,
    PRIMARY KEY (submission, sha256, fingerprint)
);
CREATE TABLE IF NOT EXISTS in_flight (
    submission  TEXT NOT NULL,
    sha256      TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    attempts    INTEGER NOT NULL,
    alone       INTEGER NOT NULL,
    started_at  REAL NOT NULL,
    PRIMARY KEY (sha256, fingerprint)
);
"""


@dataclass(frozen=True)
class InFlight:
    """A submission marked in flight: how many gradings of it started without a result
    (`attempts`), whether the last one was the only submission being graded (`alone`)."""

    submission: str
    attempts: int
    alone: bool
    started_at: float


class GradebookError(Exception):
    pass


class Gradebook:
    def __init__(self, path: Path):
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, timeout=30, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        row = self._db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
        if row is None:
            self._db.execute("INSERT INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
        elif int(row[0]) != SCHEMA_VERSION:
            raise GradebookError(f"{path} has gradebook schema {row[0]}, this grader writes "
                                 f"{SCHEMA_VERSION}: use another --out folder.")

    def lookup(self, submission: str, sha256: str, fingerprint: str) -> SubmissionResult | None:
        """A finished result for this content, under this name or (a copied notebook) another."""
        row = self._db.execute(
            "SELECT submission, result FROM results WHERE sha256=? AND fingerprint=? "
            "ORDER BY submission = ? DESC LIMIT 1", (sha256, fingerprint, submission)).fetchone()
        if row is None:
            return None
        result = SubmissionResult.from_dict(json.loads(row[1]))
        if result.grader_fault:  # kept by an older grader (or an older schema): grade it again
            return None
        result.submission = submission
        return result

    def record(self, result: SubmissionResult, fingerprint: str) -> bool:
        """Commit one result now (autocommit), replacing an older one for the same key; a grader
        fault is not kept (an older result for the key is dropped). True when it was kept. Either
        way the content is no longer in flight."""
        self.settled(result.sha256, fingerprint)
        if result.grader_fault:
            self._db.execute("DELETE FROM results WHERE submission=? AND sha256=? AND fingerprint=?",
                             (result.submission, result.sha256, fingerprint))
            return False
        self._db.execute("INSERT OR REPLACE INTO results VALUES (?, ?, ?, ?, ?)",
                         (result.submission, result.sha256, fingerprint,
                          json.dumps(result.to_dict()), time.time()))
        return True

    def started(self, submission: str, sha256: str, fingerprint: str, alone: bool) -> None:
        """Mark this content in flight (one more attempt) right before its grading starts."""
        self._db.execute(
            "INSERT INTO in_flight VALUES (?, ?, ?, 1, ?, ?) ON CONFLICT (sha256, fingerprint) "
            "DO UPDATE SET submission=excluded.submission, attempts=attempts + 1, "
            "alone=excluded.alone, started_at=excluded.started_at",
            (submission, sha256, fingerprint, int(alone), time.time()))

    def settled(self, sha256: str, fingerprint: str) -> None:
        """Its grading ended (a result, recorded or not): no longer in flight."""
        self._db.execute("DELETE FROM in_flight WHERE sha256=? AND fingerprint=?", (sha256, fingerprint))

    def settle_since(self, fingerprint: str, since: float) -> None:
        """A batch that ends cleanly without results (an exception, Ctrl-C) drops the marks it
        set itself (started at or after `since`); older ones, a dead run's, stay."""
        self._db.execute("DELETE FROM in_flight WHERE fingerprint=? AND started_at>=?",
                         (fingerprint, since))

    def left_in_flight(self, fingerprint: str) -> dict[str, InFlight]:
        """What a batch that died left in flight, by content hash."""
        rows = self._db.execute("SELECT sha256, submission, attempts, alone, started_at "
                                "FROM in_flight WHERE fingerprint=?", (fingerprint,))
        return {sha: InFlight(name, attempts, bool(alone), started)
                for sha, name, attempts, alone, started in rows}

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Gradebook:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
