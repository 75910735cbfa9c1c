"""The self-check kit's stand-in: what `edge_ai_w5_selfcheck` is while a notebook runs under the
grader, or in the kit's own terminal mode before its final check.

Neither runs the kit's cells (the grader grades with its own checks, and the kit is not installed
where student code runs; the terminal mode checks every task once, at the end), but a notebook
may use what the kit returns, as the students' README documents: `results = check()` then
`assert results.passed`, `print(check("task1_..."))`, `results["task3_lr_schedule"].passed`,
`for c in results.checks: ...`. `bootstrap_line()` is one statement that executes THIS FILE's
text (stdlib only: it runs in the student's kernel) into a module registered as
`edge_ai_w5_selfcheck` (and its submodules); imports of the kit then find it. Its `check(...)`
checks nothing and returns a result that passes and says so; it prints nothing, so the
notebook's output is what the student wrote. Keep it small: its text travels on one line.
"""
import ast
import sys
import types

NOTE = ("not run here (the grader grades this notebook with its own checks, the terminal mode "
        "checks it at the end; the self-check kit is a stand-in meanwhile)")
SUBMODULES = ("canonical", "checking", "exam", "observe", "results", "rules_task1",
              "rules_task1_sizes", "rules_task2", "rules_task3", "rules_task4", "runtime",
              "terminal", "portable")
__version__ = "stand-in"
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


def bootstrap_line(path=None):
    """One statement that registers the stand-in (this file's text, docstring dropped)."""
    with open(path or __file__, encoding="utf-8") as handle:
        tree = ast.parse(handle.read())
    tree.body = [node for node in tree.body if not (isinstance(node, ast.Expr)
                                                    and isinstance(node.value, ast.Constant))]
    source = ast.unparse(tree)
    return f'(lambda s: exec(s + "\\ninstall()", {{"STANDIN_SOURCE": s}}))({source!r})'


def remove(name="edge_ai_w5_selfcheck"):
    """Unregister the stand-in, so that the kit itself can be imported."""
    for key in [k for k in sys.modules if k == name or k.startswith(name + ".")]:
        if getattr(sys.modules[key], "__grader_standin__", False):
            del sys.modules[key]
