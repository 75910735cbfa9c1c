"""The one runner behind every check: worker lifetime, timeouts, Hypothesis settings, scoring.

For each check: if a needed definition is missing, the check fails right away. Otherwise the
runner builds the check's program (the student's definitions, earlier tasks' names from the
reference), starts a worker for it and tries each property in turn: its explicit examples first,
then what Hypothesis draws, with the same derandomized settings for everyone. A property fails on
the first input that breaks it (Hypothesis shrinks that input); the check's score is the share of
properties that held times the rubric's points.

One fault costs one check: a student exception fails the property it happened in; a timeout or a
dead worker fails that property with a sentence about it, and the next property gets a fresh
worker; anything that goes wrong in the grader itself gives status `error` for this check only.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable

from hypothesis import HealthCheck, Phase, Verbosity, example, given, seed, settings

from grader.checks import feedback
from grader.checks.session import (FreshHost, ForkServerHost, HarnessError, RunDirFactory,
                                   Session, WorkerHost, WorkerLost)
from grader.checks.rubric import Rubric
from grader.checks.spec import CheckContext, CheckSpec, Failure, Property
from grader.results.model import ERROR, FAILED, PASSED, CheckResult, Counterexample, SubProperty
from grader.options import group, option
from grader.sandbox.limits import Limits

SITE_DIR = Path(__file__).resolve().parent.parent / "environment" / "site"
# Hypothesis' seed for every search. Derandomized runs would seed from the test function's
# source text, so any edit of this module would change every student's exam; this pins it.
EXAM_SEED = 5

# What a fork server imports before forking workers: the course stack the graded cells import.
# The configuration module comes first (Plato reads its YAML on import).
FORK_PRELOAD = ("numpy", "edge_ai_w5_sedna_configuration", "torch", "torchvision",
                "torchvision.transforms", "PIL.Image", "imgaug.augmenters", "plato.config",
                "plato.trainers.basic", "plato.trainers.registry", "plato.clients.simple",
                "plato.clients.registry", "unittest.mock",
                # ... and what notebook kernels forked from the same server need, including
                # what a kernel would otherwise import while it starts (its debugger: ~0.15 s).
                "matplotlib.pyplot", "matplotlib.backends.backend_agg", "nest_asyncio",
                "cifar100_resnets", "ipykernel.kernelapp", "ipykernel.ipkernel",
                "ipykernel.debugger", "IPython.core.completerlib")


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


def hypothesis_settings(max_examples: int) -> settings:
    """The same exam for everyone: derandomized, no example database, no deadline."""
    _pin_hypothesis_constants()
    return settings(
        derandomize=True,
        database=None,
        max_examples=max_examples,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        report_multiple_bugs=False,
        print_blob=False,
        verbosity=Verbosity.quiet,
        phases=(Phase.explicit, Phase.generate, Phase.shrink),
    )


def make_host(specs: Iterable[CheckSpec], run_dir_factory: RunDirFactory,
              options: RunnerOptions) -> WorkerHost:
    """A fork server when some check needs the course stack, else fresh workers."""
    if options.fork_server and any(spec.preload for spec in specs):
        return ForkServerHost(options.site_dir, options.limits, run_dir_factory, FORK_PRELOAD,
                              startup_timeout=max(options.load_timeout, 60.0),
                              fallback=FreshHost(options.site_dir, options.limits))
    return FreshHost(options.site_dir, options.limits)


def _pin_hypothesis_constants() -> None:
    """Keep the exam independent of which modules the grading process happens to have loaded.

    Hypothesis (6.13x+) sometimes draws literals collected from "local" modules (anything not in
    site-packages or the stdlib) of the running process. `grade`, `check`, batch workers and the
    tests load different modules, so derandomized runs would still differ between them. This
    empties that pool (Hypothesis' own built-in constants stay). Private API: if a future
    Hypothesis renames it, nothing is patched and only this guarantee is lost.
    """
    try:
        from hypothesis.internal.conjecture import providers
        from hypothesis.internal.constants_ast import Constants
    except ImportError:  # pragma: no cover - older or newer Hypothesis
        return
    if getattr(providers, "_get_local_constants", None) is None \
            or getattr(providers._get_local_constants, "pinned_by_grader", False):
        return
    empty = Constants()

    def no_local_constants() -> Constants:
        return empty

    no_local_constants.pinned_by_grader = True
    providers._get_local_constants = no_local_constants
    cache = getattr(providers, "CONSTANTS_CACHE", None)
    if cache is not None:  # drop pools computed before the pin (an LRUCache has no clear())
        providers.CONSTANTS_CACHE = type(cache)(1024)


@dataclass
class PropertyOutcome:
    name: str
    held: bool
    failure: Failure | None = None
    case: Any = None
    tried: int = 0


class _Failed(Exception):
    """Raised inside the Hypothesis test when a property fails; the details are recorded aside."""


class _OutOfTime(BaseException):
    """The check's time budget is spent; aborts Hypothesis like WorkerLost does."""


def run_check(spec: CheckSpec, student, reference, *, points: float, host: WorkerHost,
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
                      properties=[SubProperty(p.name, False, "not checked: definition missing")
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
            outcomes.append(_run_property(spec, prop, cases, context, deadline, max_examples,
                                          options))
    except Exception as exc:  # noqa: BLE001 - the grader's fault: this check only
        return result(ERROR, 0.0, feedback.grader_error(spec.title, exc))
    finally:
        if session is not None:
            session.close()

    held = sum(o.held for o in outcomes)
    problems = _problems(outcomes)
    properties = [SubProperty(o.name, o.held, _property_message(spec, o, problems))
                  for o in outcomes]
    if held == len(outcomes):
        tried = session.inputs_tried if session is not None else 0
        return result(PASSED, points, feedback.passed(spec.title, len(outcomes), tried),
                      properties=properties)
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
    return result(FAILED, score, text, counterexample=counterexample, properties=properties)


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


def _search(prop: Property, max_examples: int, visit: Callable[[Any], None]) -> None:
    """Give `visit` the property's inputs: its examples in order, then what Hypothesis draws.
    An input `visit` rejects (by raising) ends the search once Hypothesis has shrunk it."""
    def test(case: Any) -> None:
        visit(case)

    if prop.strategy is None:
        for case in prop.examples:
            visit(case)
        return
    wrapped = given(case=prop.strategy())(test)
    for case in reversed(prop.examples):  # the first example runs first
        wrapped = example(case=case)(wrapped)
    seed(EXAM_SEED)(hypothesis_settings(max_examples)(wrapped))()


_EXAMS: dict[tuple[int, int], tuple[Property, tuple[Any, ...]]] = {}


def exam(prop: Property, max_examples: int) -> tuple[Any, ...]:
    """The inputs a search meets when every input passes, in order (computed once per process).

    Derandomized Hypothesis draws each input from the ones before and a fixed seed, never from
    the test's verdicts, so up to the first failure every submission meets exactly these. The
    runner judges them without Hypothesis and searches (to shrink) only when one fails.
    """
    key = (id(prop), max_examples)
    if key not in _EXAMS:  # the entry keeps `prop` alive, so its id cannot be reused
        cases: list[Any] = []
        _search(prop, max_examples, cases.append)
        _EXAMS[key] = (prop, tuple(cases))
    return _EXAMS[key][1]


def _run_property(spec: CheckSpec, prop: Property, cases: tuple[Any, ...], context: CheckContext,
                  deadline: float, max_examples: int, options: RunnerOptions) -> PropertyOutcome:
    outcome = PropertyOutcome(prop.name, held=True)
    if time.monotonic() > deadline:
        return PropertyOutcome(prop.name, False, Failure(
            f"{prop.name}: not checked, the check's time budget of {options.check_budget:g} s "
            "was used up by earlier properties."))

    def visit(case: Any) -> None:
        if time.monotonic() > deadline:
            raise _OutOfTime()
        outcome.tried += 1
        failure = _evaluate(spec, prop, context, case, options)
        if failure is not None:
            outcome.held, outcome.failure, outcome.case = False, failure, case
            raise _Failed()

    try:
        try:
            for case in cases:
                visit(case)
        except _Failed:
            if prop.strategy is None:
                raise
            # The same search again, from the start, shrinks what failed: the inputs up to
            # this one are the exam's, answered from the session's memory.
            found = outcome.failure, outcome.case
            outcome.held, outcome.tried = True, 0
            _search(prop, max_examples, visit)
            outcome.held = False  # the search passed (code that is not deterministic)
            outcome.failure, outcome.case = found
    except _Failed:
        pass
    except WorkerLost as lost:
        outcome.held = False
        case = getattr(lost, "case", None)
        where = spec.describe(case) if case is not None else ""
        outcome.case = case
        outcome.failure = Failure(feedback.lost(spec.title, lost.reason, lost.detail, where,
                                                options.call_timeout),
                                  expected="a result", actual=_lost_actual(lost),
                                  key=("lost", lost.reason))
    except _OutOfTime:
        if outcome.held:
            outcome.held = False
            outcome.failure = Failure(
                f"{prop.name}: not finished, the check's time budget of "
                f"{options.check_budget:g} s ran out (is your code very slow?).")
    except Exception:
        if outcome.held:  # Hypothesis complained without a recorded failure: our problem
            raise
        # e.g. Hypothesis' Flaky: the recorded failure stands.
    return outcome


def _lost_actual(lost: WorkerLost) -> str:
    return {"timeout": "no result (stopped after the time limit)",
            "died": "no result (the worker process ended)"}.get(lost.reason, lost.detail)


def _evaluate(spec: CheckSpec, prop: Property, context: CheckContext, case: Any,
              options: RunnerOptions) -> Failure | None:
    try:
        observation = spec.observe(context, case)
    except WorkerLost as lost:
        lost.case = case
        raise
    if observation.error is not None:
        error = observation.error
        return Failure(feedback.raised(spec.title, error, spec.describe(case)),
                       expected="a result", actual=f"{error.type}: {error.message}",
                       key=("raised", error.type, error.where))
    return prop.holds(case, observation)


def run_specs(specs: Iterable[CheckSpec], student, reference, *, rubric: Rubric,
              run_dir_factory: RunDirFactory, options: RunnerOptions | None = None,
              host: WorkerHost | None = None) -> list[CheckResult]:
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
