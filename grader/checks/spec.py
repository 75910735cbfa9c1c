"""A check is data: what it needs from the notebook, how it observes the student's code, and the
named properties whose share decides the score. `runner.py` and `trial.py` do everything else
(workers, timeouts, Hypothesis settings, scoring), the same way for every check.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:
    from hypothesis.strategies import SearchStrategy

    from grader.checks.session import Session
    from grader.notebook.extract import Definitions


@dataclass(frozen=True)
class Failure:
    """Why a property failed on one input, in the student's terms (see `feedback.py`)."""

    message: str
    expected: str = ""
    actual: str = ""
    key: Any = None  # failures with one key are one problem (the same exception, say)


@dataclass(frozen=True)
class Property:
    """One named, separately scored part of a check.

    `holds(case, observation)` returns None when the property held on that input, else a
    `Failure`. Inputs are the explicit `examples` (always tried first, in order) and, when
    `strategy` is given, what Hypothesis draws from it. A student exception on an input fails
    the property with the exception as the reason; `holds` only sees successful observations.
    """

    name: str
    holds: Callable[[Any, Any], Failure | None]
    strategy: Callable[[], SearchStrategy] | None = None
    examples: tuple[Any, ...] = ()


@dataclass
class CheckContext:
    """What `prepare` and `observe` work with while one check runs."""

    session: Session
    reference: Definitions
    run_dir: Path
    data: dict[str, Any] = field(default_factory=dict)  # whatever `prepare` computed
    # Plain values `observe` saw and the results keep (`CheckResult.observed`), e.g. the seed.
    observed: dict[str, Any] = field(default_factory=dict)
    request: Callable[[CheckContext, Any], tuple[str, dict]] | None = None

    def probe(self, case: Any):
        """The worker's reply (a session.Reply) to the check's `request` for `case`."""
        probe, args = self.request(self, case)
        return self.session.call(probe, **args)


@dataclass(frozen=True)
class Observation:
    """What one input produced: the probe's reply (or the student's exception) and the values
    the reference gives for the same input."""

    actual: Any = None
    expected: Any = None
    error: Any = None  # a session.StudentError


@dataclass(frozen=True)
class CheckSpec:
    id: str
    title: str  # the graded definition as students know it, for sentences
    needs: tuple[str, ...]  # names the notebook must define; the program is their closure
    observe: Callable[[CheckContext, Any], Observation]
    properties: tuple[Property, ...]
    describe: Callable[[Any], str]  # an input, as a phrase: "with seed=0, n=1 and ..."
    substitutes: tuple[str, ...] = ()  # earlier tasks' names, taken from the reference
    preload: tuple[str, ...] = ()  # course modules the worker imports before the program
    prepare: Callable[[CheckContext], None] | None = None
    max_examples: int = 40
    # The probe call `observe` makes for an input, as (probe, arguments): lets the runner send a
    # whole exam's calls to the worker in one stream before judging them.
    request: Callable[[CheckContext, Any], tuple[str, dict]] | None = None
