"""The self-check kit's stand-in: what `edge_ai_w5_selfcheck` is inside a notebook the grader runs.

The grader does not run the kit (it grades with its own checks, and the kit is not installed
where student code runs), but a notebook may use what the kit returns, as the students' README
documents: `results = check()` then `assert results.passed`, `print(check("task1_..."))`,
`results["task3_lr_schedule"].passed`, `for c in results.checks: ...`. `SkipSelfCheck` turns each
import of the kit into one line that executes THIS FILE's text (stdlib only: it runs in the
student's kernel, never imports the grader) into a module registered as `edge_ai_w5_selfcheck`
(and its submodules), then runs the import as written. Its `check(...)` checks nothing and
returns a result that passes and says so; it prints nothing, so the notebook's output is what the
student wrote. Keep it small: its text travels on one line into each such cell.
"""
import sys
import types

NOTE = ("not run by the grader (it grades this notebook with its own checks; the self-check kit "
        "is a stand-in here)")
SUBMODULES = ("canonical", "checking", "exam", "observe", "results", "rules_task1",
              "rules_task1_sizes", "rules_task2", "rules_task3", "rules_task4", "runtime",
              "terminal", "portable")
__version__ = "not run by the grader"
__grader_standin__ = True


class PropertyResult:
    def __init__(self, name=""):
        self.name, self.passed, self.message = name, True, NOTE
        self.input = self.actual = self.expected = ""


class CheckResult:
    def __init__(self, check_id=""):
        self.id, self.task, self.title, self.status = check_id, "", check_id, "not run"
        self.message, self.properties, self.failed_properties = NOTE, (), ()
        self.passed = True

    def summary(self):
        return NOTE

    def __bool__(self):
        return True

    def __repr__(self):
        return f"{self.id}: {NOTE}"


class Results:
    def __init__(self, ids=()):
        self.checks = tuple(CheckResult(i) for i in ids)
        self.differences = ()
        self.passed = True

    def __getitem__(self, check_id):
        return CheckResult(check_id)

    def __iter__(self):
        return iter(self.checks)

    def __len__(self):
        return len(self.checks)

    def __bool__(self):
        return True

    def to_dict(self):
        return {"passed": True, "checks": [], "note": NOTE}

    def mark_shown(self, *args):
        pass

    def __repr__(self):
        return f"Self-check {NOTE}."

    def _repr_html_(self):
        return f"<p>Self-check {NOTE}.</p>"


def check(*ids, **options):
    return Results(ids)


def main(*args, **options):
    return 0


def install(name="edge_ai_w5_selfcheck"):
    """Register this module (already executed into `module`) under the kit's names."""
    module = sys.modules.get(name)
    if getattr(module, "__grader_standin__", False):
        return
    module = types.ModuleType(name, "stand-in for the self-check kit while grading")
    module.__path__ = []
    exec(STANDIN_SOURCE, module.__dict__)  # noqa: S102 - this file's own text
    sys.modules[name] = module
    for sub in SUBMODULES:
        sys.modules[f"{name}.{sub}"] = module
        setattr(module, sub, module)
