"""The federated rounds of `validate`: the reference, and on CUDA the fixtures about Tasks 3 and 4.

`validate` grades every sample with the round off, so each sample's `fl_round` is `skipped`, as
its manifest row's `expected` says. The rounds are run here, one notebook at a time:

- the reference, unless `--fl-round off` (on the CPU too: course CI proves the final cell works);
- where the round would run when grading (CUDA with `--fl-round auto`, or `--fl-round on`),
  also every sample whose manifest row names `fl_round_when_run`: the fixtures about Tasks 3
  and 4 (the learning-rate schedule and the payload reach the round), not all of them;
  `fixtures/make_submissions.py` decides which and what the round says of each.

A round's size follows `--fl-round-size` (full on CUDA, small on the CPU); the samples' rounds
run `jobs` at a time (`validate --workers`), each in a process of its own. A round that ends in
`error` (the grader's side failed: aggregator, reference client) is a finding that names it.
"""
from __future__ import annotations

import json
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import nbformat

from .federated import fl_round_check, reference_round, should_run

if TYPE_CHECKING:
    from .pipeline import Options
    from .results.model import CheckResult

WHEN_RUN = "fl_round_when_run"
"""The manifest key: a sample's `fl_round` status when its round runs."""

RoundCheck = Callable[[nbformat.NotebookNode, "Options"], "CheckResult"]


@dataclass(frozen=True)
class Finding:
    """One line of `validate`'s report."""

    item: str
    ok: bool
    detail: str


def round_samples(manifest: dict) -> dict[str, str]:
    """File name -> expected `fl_round` status, for every sample whose round `validate` runs."""
    return {name: entry[WHEN_RUN] for name, entry in sorted(manifest["submissions"].items())
            if entry.get(WHEN_RUN)}


def samples_run(options: Options) -> bool:
    """Whether the samples' rounds run: where grading would run the round (`--fl-round`)."""
    return should_run(options.fl_round)


def validate_rounds(options: Options, manifest: dict, submissions: Path, *, jobs: int = 1,
                    check: RoundCheck | None = None,
                    reference: Callable[[Options], tuple[bool, str]] = reference_round,
                    say: Callable[[str], None] = lambda line: None) -> list[Finding]:
    """The findings of the rounds `validate` runs (see the module doc), the samples' rounds
    `jobs` at a time (each in a process of its own); `check` and `reference` run one round
    (replaceable, to test the selection without rounds; a given `check` runs in this process)."""
    say("federated round: the reference")
    findings = [Finding("reference federated round", *reference(options))]
    if not samples_run(options):
        return findings
    # The reference sample's round is the reference's, above.
    samples = {name: want for name, want in round_samples(manifest).items()
               if name != "reference.ipynb"}
    say(f"federated rounds: {len(samples)} samples, {jobs} at a time")
    results = _run(samples, options, submissions, jobs, check)
    for name, want in samples.items():
        result = results[name]
        if isinstance(result, BaseException):
            findings.append(Finding(f"{name} federated round", False,
                                    f"the grader failed: {type(result).__name__}: {result}"))
            continue
        ok = result.status == want
        detail = (f"{result.status} in {result.seconds:.0f} s, as the manifest says" if ok else
                  f"{result.status} (expected {want}): {result.feedback[:400]}")
        findings.append(Finding(f"{name} federated round", ok, detail))
    return findings


def _run(samples: dict[str, str], options: Options, submissions: Path, jobs: int,
         check: RoundCheck | None) -> dict[str, CheckResult | BaseException]:
    if check is not None or jobs <= 1 or len(samples) <= 1:
        results: dict[str, CheckResult | BaseException] = {}
        for name in samples:
            try:
                results[name] = (check or fl_round_check)(
                    nbformat.read(submissions / name, as_version=4), options)
            except Exception as exc:  # the grader's own failure: a finding, not a crash
                results[name] = exc
        return results
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=min(jobs, len(samples)), mp_context=context) as pool:
        futures = {name: pool.submit(_round_of, submissions / name, options) for name in samples}
        results = {}
        for name, future in futures.items():
            try:
                results[name] = future.result()
            except Exception as exc:
                results[name] = exc
        return results


def _round_of(path: Path, options: Options) -> CheckResult:
    """One sample's `fl_round` check (in a pool process)."""
    return fl_round_check(nbformat.read(path, as_version=4), options)


def load_manifest(submissions: Path) -> dict:
    return json.loads((submissions / "manifest.json").read_text(encoding="utf-8"))
