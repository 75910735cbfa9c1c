"""Each use of the kit's result that the students' README documents works with the kit itself
(`tests/release/test_documented_uses.py` runs them under the grader's stand-in)."""
from __future__ import annotations

import pytest

from grader.release.student_readme import DOCUMENTED_USES


@pytest.mark.parametrize("use", DOCUMENTED_USES, ids=lambda u: u.splitlines()[-1][:40])
def test_a_documented_use_works_with_the_real_kit(use, kit, kit_data_file, capsys):
    """The same snippet against the kit itself (on an empty kernel: every check fails, fast);
    `assert results.passed` is then meant to fail, as the README says."""
    namespace = {"check": lambda *ids, **kw: kit.check(*ids, namespace={}, data_file=kit_data_file,
                                                       **kw)}
    namespace["__name__"] = "__main__"
    source = use.replace("import edge_ai_w5_selfcheck as kit\n", "")
    source = source.replace("kit.check(", "check(")
    if "assert results.passed" in source:
        with pytest.raises(AssertionError):
            exec(source, namespace)
        return
    exec(source, namespace)
    assert "Traceback" not in capsys.readouterr().out
