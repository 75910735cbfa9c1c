"""The class report's "most common failures": which property of which check the class fails.

An instructor preparing the quiz review wants the misconceptions, not the checks' summary lines:
how many students failed `same_indices`, `notebook_sizes`, `depends_on_round_only`, ... with the
property's sentence (numbers and quoted values masked, `text.failure_pattern`) and the students.
For each check, `failure_groups` returns one group per failing property, most frequent first;
within a group, one row per masked sentence. A check that could not run at all (the notebook
lacks a name it needs: every property says `NOT_RUN`) is its own group, whatever its properties;
a check without properties (notebook_runs) or one that errored without any is grouped by its
feedback's first sentence. Only graded submissions count: one that could not be graded at all is
a problem of its own in the report. Verdicts are read from the results model, never recomputed.
"""
from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from ..results.model import ERROR, FAILED, NOT_RUN, CheckResult, SubmissionResult
from .text import failure_pattern, first_sentence

# How many distinct sentences per group the report lists (the rest are counted).
TOP_SENTENCES = 5

NOT_RUN_GROUP = "could not run"
WHOLE_CHECK_GROUP = "the check as a whole"


def could_not_run(check: CheckResult) -> bool:
    """A check that never ran: the notebook does not define a name it needs."""
    return bool(check.properties) and all(not p.passed and p.message == NOT_RUN
                                          for p in check.properties)


def _failing(check: CheckResult) -> list[tuple[str, str, str]]:
    """(group, kind, sentence) for each way `check` failed: one per failed property, else one."""
    if could_not_run(check):
        return [(NOT_RUN_GROUP, "not_run", first_sentence(check.feedback) or "(no feedback)")]
    failed = [p for p in check.properties if not p.passed]
    if failed:
        return [(p.name, "property", first_sentence(p.message) or first_sentence(check.feedback)
                 or "(no feedback)") for p in failed]
    return [(WHOLE_CHECK_GROUP, "check", first_sentence(check.feedback) or "(no feedback)")]


def failure_groups(check_id: str, subs: list[SubmissionResult]) -> list[dict[str, Any]]:
    """The groups of one check (see the module docstring), most frequent first."""
    members: dict[tuple[str, str], list[tuple[str, CheckResult, str]]] = defaultdict(list)
    for sub in subs:
        check = sub.check(check_id)
        if check is None or sub.status == ERROR or check.status not in (FAILED, ERROR):
            continue
        for group, kind, sentence in _failing(check):
            members[(group, kind)].append((sub.submission, check, sentence))
    groups = []
    for (group, kind), rows in sorted(members.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        # A missing name is said as it is (which name is the point); other sentences are masked.
        keys = [sentence if kind == "not_run" else failure_pattern(sentence) for _, _, sentence in rows]
        by_key: dict[str, list[int]] = defaultdict(list)
        for index, key in enumerate(keys):
            by_key[key].append(index)
        sentences = []
        for key, indices in sorted(by_key.items(), key=lambda kv: (-len(kv[1]), kv[0]))[:TOP_SENTENCES]:
            variants = Counter(rows[i][2] for i in indices)
            sentences.append({"pattern": key, "message": variants.most_common(1)[0][0],
                              "variants": len(variants), "count": len(indices),
                              "submissions": [rows[i][0] for i in indices]})
        groups.append({
            "property": group, "kind": kind, "count": len(rows),
            "statuses": dict(Counter(check.status.value for _, check, _ in rows)),
            "sentences": sentences, "more_sentences": max(0, len(by_key) - TOP_SENTENCES),
            "submissions": [name for name, _, _ in rows],
        })
    return groups


def property_rates(check_id: str, subs: list[SubmissionResult]) -> list[dict[str, Any]]:
    """Per property of a check, over graded submissions whose check ran: held, failed, pass rate.
    A check that could not run counts for no property (its own group says how often)."""
    held: Counter = Counter()
    failed: Counter = Counter()
    order: dict[str, None] = {}
    for sub in subs:
        check = sub.check(check_id)
        if check is None or sub.status == ERROR or could_not_run(check):
            continue
        for prop in check.properties:
            order.setdefault(prop.name, None)
            (held if prop.passed else failed)[prop.name] += 1
    return [{"name": name, "held": held[name], "failed": failed[name],
             "pass_rate": round(held[name] / (held[name] + failed[name]), 4)}
            for name in order]


__all__ = ["NOT_RUN_GROUP", "WHOLE_CHECK_GROUP", "could_not_run", "failure_groups",
           "property_rates"]
