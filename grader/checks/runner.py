"""The one runner behind every check: worker lifetime, time budget, scoring.

For each check: if a needed definition is missing, the check fails right away. Otherwise the
runner builds the check's program (the student's definitions, earlier tasks' names from the
reference), starts a worker for it and tries each property in turn (`trial.py`): its explicit
examples first, then what Hypothesis draws, with the same derandomized settings for everyone. A
property fails on the first input that breaks it (Hypothesis shrinks that input); the check's
score is the share of properties that held times the rubric's points.

One fault costs one check: a student exception fails the property it happened in; a timeout or a
dead worker fails that property with a sentence about it, and the next property gets a fresh
worker; anything that goes wrong in the grader itself gives status `error` for this check only.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from grader.checks import feedback
from grader.checks.rubric import Rubric
from grader.checks.session import Session
from grader.checks.spec import CheckContext, CheckSpec
from grader.checks.trial import PropertyOutcome, exam, run_property
from grader.environment.layout import SITE_DIR
from grader.environment.preload import AFTER_FORK, FORK_PRELOAD
from grader.options import group, option
from grader.results.model import (ERROR, FAILED, NOT_RUN, PASSED, CheckResult, Counterexample,
                                  SubProperty)
from grader.sandbox.errors import HarnessError
from grader.sandbox.hosts import ForkServerHost, FreshHost, Host, RunDirFactory
from grader.sandbox.limits import Limits


@dataclass(frozen=True)
class RunnerOptions:
    """How checks run (declared in `grader.options`); `limits`: the check workers' sandbox, the
    grading run's own (`pipeline.Grader` passes `Options.limits`)."""

    call_timeout: float = option("call_timeout")
    load_timeout: float = option("load_timeout")
    check_budget: float = option("check_budget")
    max_restarts: int = option("max_restarts")
    max_examples: int | None = option("max_examples")
    fork_server: bool = option("fork_server")
    limits: Limits = group(Limits)
    site_dir: Path = SITE_DIR


def make_host(specs: Iterable[CheckSpec], run_dir_factory: RunDirFactory,
              options: RunnerOptions) -> Host:
    """A fork server when some check needs the course stack, else fresh workers."""
    if options.fork_server and any(spec.preload for spec in specs):
        return ForkServerHost(options.site_dir, options.limits, run_dir_factory, FORK_PRELOAD,
                              startup_timeout=max(options.load_timeout, 60.0),
                              fallback=FreshHost(options.site_dir, options.limits),
                              after_fork=AFTER_FORK)
    return FreshHost(options.site_dir, options.limits)


def run_check(spec: CheckSpec, student, reference, *, points: float, host: Host,
              run_dir_factory: RunDirFactory, options: RunnerOptions,
              partial_credit: bool = True) -> CheckResult:
    started = time.monotonic()
    binding = next((student.binding(n) for n in spec.needs if student.binding(n) is not None), None)
    cell_id = binding.cell_id if binding is not None else None

    def result(status: str, score: float, text: str, **extra: Any) -> CheckResult:
        return CheckResult(id=spec.id, status=status, score=round(score, 4), max_score=points,
                           feedback=text, cell_id=cell_id,
                           seconds=time.monotonic() - started, **extra)

    missing = [name for name in spec.needs if name not in student]
    if missing:
        return result(FAILED, 0.0, feedback.missing(missing),
                      properties=[SubProperty(p.name, False, NOT_RUN)
                                  for p in spec.properties])
    session = None
    try:
        absent = [name for name in spec.substitutes if name not in reference]
        if absent:
            raise HarnessError(f"the reference notebook does not define {', '.join(absent)}")
        program = _program(spec, student, reference)
        run_dir, env = run_dir_factory()
        session = Session(host, program, Path(run_dir), dict(env), preload=spec.preload,
                          call_timeout=options.call_timeout, load_timeout=options.load_timeout,
                          max_restarts=options.max_restarts)
        context = CheckContext(session, reference, Path(run_dir), request=spec.request)
        if spec.prepare is not None:
            spec.prepare(context)
        deadline = started + options.check_budget
        max_examples = options.max_examples or spec.max_examples
        exams = [exam(prop, max_examples) for prop in spec.properties]
        if spec.request is not None:
            session.prefetch([spec.request(context, case) for cases in exams for case in cases],
                             until=deadline)
        outcomes = []
        for prop, cases in zip(spec.properties, exams):
            outcomes.append(run_property(spec, prop, cases, context, deadline=deadline,
                                         max_examples=max_examples,
                                         call_timeout=options.call_timeout,
                                         check_budget=options.check_budget))
    except Exception as exc:  # noqa: BLE001 - the grader's fault: this check only
        return result(ERROR, 0.0, feedback.grader_error(spec.title, exc))
    finally:
        if session is not None:
            session.close()

    observed = dict(context.observed) or None
    held = sum(o.held for o in outcomes)
    problems = _problems(outcomes)
    properties = [SubProperty(o.name, o.held, _property_message(spec, o, problems))
                  for o in outcomes]
    if held == len(outcomes):
        tried = session.inputs_tried if session is not None else 0
        return result(PASSED, points, feedback.passed(spec.title, len(outcomes), tried),
                      properties=properties, observed=observed)
    first = next(o for o in outcomes if not o.held)
    counterexample = None
    if first.case is not None and first.failure is not None:
        counterexample = Counterexample(input=spec.describe(first.case),
                                        expected=first.failure.expected,
                                        actual=first.failure.actual)
    text = feedback.failed(spec.title, held, len(outcomes), _messages(problems))
    note = feedback.load_errors(session.load_errors) if session is not None else ""
    if note:
        text += "\n" + note
    score = points * held / len(outcomes) if partial_credit else 0.0
    return result(FAILED, score, text, counterexample=counterexample, properties=properties,
                  observed=observed)


def _program(spec: CheckSpec, student, reference) -> list[dict]:
    """The check's program as plain snippets; those taken from the reference are marked, so
    the worker names them `<reference cell ...>` and keeps them out of the student's traceback."""
    borrowed = {(s.cell_id, s.line, s.source) for s in reference.program(spec.substitutes)} \
        if spec.substitutes else set()
    program = []
    for snippet in student.program(spec.needs, reference, spec.substitutes):
        plain = snippet.to_dict()
        if (snippet.cell_id, snippet.line, snippet.source) in borrowed:
            plain["origin"] = "reference"
        program.append(plain)
    return program


def _problems(outcomes: list[PropertyOutcome]) -> dict[Any, list[PropertyOutcome]]:
    """The failed properties grouped by problem (the failure's key, else its message), in order:
    the same student exception, raised at the same place, is one problem whatever its input."""
    groups: dict[Any, list[PropertyOutcome]] = {}
    for outcome in outcomes:
        if not outcome.held and outcome.failure is not None:
            groups.setdefault(outcome.failure.key or outcome.failure.message, []).append(outcome)
    return groups


def _raised(key: Any) -> bool:
    return isinstance(key, tuple) and bool(key) and key[0] == "raised"


def _messages(problems: dict[Any, list[PropertyOutcome]]) -> list[str]:
    """One line per problem; an exception that failed several properties says so once."""
    failed = sum(len(members) for members in problems.values())
    lines = []
    for key, members in problems.items():
        line = members[0].failure.message
        if len(members) > 1 and _raised(key):
            which = ("every property that failed" if len(members) == failed
                     else feedback.plural(len(members), "property", "properties"))
            line += (f" The same error made {which} fail: "
                     f"{', '.join(m.name for m in members)}.")
        lines.append(line)
    return lines


def _property_message(spec: CheckSpec, outcome: PropertyOutcome,
                      problems: dict[Any, list[PropertyOutcome]]) -> str:
    """A property's own line; after the first property an exception failed, a short one."""
    if outcome.failure is None:
        return ""
    key = outcome.failure.key
    members = problems.get(key or outcome.failure.message, [])
    if _raised(key) and members and members[0] is not outcome and outcome.case is not None:
        return f"raised the same {key[1]} {spec.describe(outcome.case)}"
    return outcome.failure.message


def run_specs(specs: Iterable[CheckSpec], student, reference, *, rubric: Rubric,
              run_dir_factory: RunDirFactory, options: RunnerOptions | None = None,
              host: Host | None = None) -> list[CheckResult]:
    """Run `specs` in order with one shared worker host (closed here unless given)."""
    specs = list(specs)
    options = options or RunnerOptions()
    own_host = host is None
    if host is None:
        host = make_host(specs, run_dir_factory, options)
    if any(spec.preload for spec in specs):
        host.begin()  # a fork server imports the course stack while light checks run
    try:
        return [run_check(spec, student, reference, points=rubric.points_for(spec.id), host=host,
                          run_dir_factory=run_dir_factory, options=options,
                          partial_credit=rubric.allows_partial_credit(spec.id))
                for spec in specs]
    finally:
        if own_host:
            host.close()
