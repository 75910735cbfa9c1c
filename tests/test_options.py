"""Each option is declared once (`grader.options`) and everything else derives from it: the
command line of every subcommand, `pipeline.Options`, the sandbox's `Limits`, the runner's and the
round's settings. In-process, no notebook runs."""
from __future__ import annotations

import argparse
import ast
import dataclasses
from pathlib import Path

import pytest

from grader import cli, options
from grader.checks.runner import RunnerOptions
from grader.checks.session import Session
from grader.federated.settings import RoundSettings
from grader.lms.run import LmsOptions
from grader.options import GiB, OPTIONS, declared, default
from grader.pipeline import Options
from grader.sandbox.limits import Limits

GRADER = Path(options.__file__).resolve().parent
SETTINGS = (Options, Limits, RunnerOptions, RoundSettings, LmsOptions)


def subcommands() -> dict[str, argparse.ArgumentParser]:
    parser = cli.build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def test_every_option_has_help_and_a_default():
    assert len(OPTIONS) >= 20
    for name, d in OPTIONS.items():
        assert d.name == name
        assert len(d.help) > 15 and not d.help.endswith("."), name
        assert hasattr(d, "default") and d.default_text(), name
        if d.flag:
            assert d.flag.startswith("--") and (d.parse or d.choices), name
            if d.choices:
                assert d.default in d.choices, name
    for name, sub in subcommands().items():  # a flag names one option in each subcommand
        flags = [a.option_strings[0] for a in sub._actions if a.dest in OPTIONS]
        assert len(flags) == len(set(flags)), name
    shared = {d.flag for d in OPTIONS.values() if d.flag} - {"--out"}  # grade's and release's folder
    assert len(shared) == len([d for d in OPTIONS.values() if d.flag and d.flag != "--out"])


def test_a_second_declaration_is_refused():
    with pytest.raises(ValueError, match="declared twice"):
        options.declare("cell_timeout", 1.0, "seconds again")


def test_settings_take_every_default_from_the_declarations():
    for cls in SETTINGS:
        instance = cls()
        for f in dataclasses.fields(cls):
            if options._OPTION in f.metadata:
                assert getattr(instance, f.name) == f.metadata[options._OPTION].default, (cls, f.name)
    assert Limits().memory_bytes == 4 * GiB == default("memory_bytes")
    # the check workers get the grading run's sandbox: one memory limit, not 8 GiB in one place
    assert RunnerOptions().limits == Options().limits == RoundSettings().limits == Limits()
    session = Session(host=None, program=[], run_dir=Path("."), env={})
    assert (session.call_timeout, session.load_timeout, session.max_restarts) == \
        (default("call_timeout"), default("load_timeout"), default("max_restarts"))


def test_every_flag_reaches_a_setting():
    """A flag that no settings class reads would be parsed and then silently ignored."""
    read = {d.name for cls in SETTINGS for d in declared(cls)} | {
        "out_dir", "workers", "cluster",  # read by `grade` itself
        "release_dir",  # read by `release` itself
        "bundle_path", "autograder_root"}  # read by `gradescope-bundle` and `gradescope-run`
    for name, sub in subcommands().items():
        for action in sub._actions:
            if action.dest in OPTIONS:
                assert action.dest in read, (name, action.dest)


@pytest.mark.parametrize("argv", [["grade", "x.ipynb"], ["check", "x.ipynb"], ["validate"],
                                  ["fl-round", "x.ipynb"]])
def test_the_command_line_defaults_are_the_declared_ones(argv):
    args = cli.build_parser().parse_args(argv)
    named = [name for name in vars(args) if name in OPTIONS]
    assert "data_dir" in named and "memory_bytes" in named
    for name in named:
        assert getattr(args, name) == default(name), name
    assert options.from_arguments(args, Options) == Options()
    if argv[0] == "fl-round":
        assert options.from_arguments(args, RoundSettings) == RoundSettings()


def test_values_on_the_command_line_arrive_in_their_unit(tmp_path):
    args = cli.build_parser().parse_args(
        ["grade", "x.ipynb", "--memory-limit", "2.5", "--isolation", "off", "--cell-timeout", "7",
         "--data", str(tmp_path), "--fl-round", "on", "--out", str(tmp_path / "o")])
    graded = options.from_arguments(args, Options)
    assert graded.limits == Limits(memory_bytes=int(2.5 * GiB), isolation="off")
    assert (graded.cell_timeout, graded.notebook_timeout) == (7.0, default("notebook_timeout"))
    assert (graded.data_dir, graded.fl_round, args.out_dir) == (tmp_path, "on", tmp_path / "o")
    with pytest.raises(SystemExit):
        cli.build_parser().parse_args(["grade", "x.ipynb", "--memory-limit", "lots"])
    assert "(default: 4 GiB)" in subcommands()["grade"].format_help().replace("\n", " ")


def test_fl_round_goes_through_the_grading_options(monkeypatch, tmp_path):
    """`fl-round` builds `Options` like every subcommand: its canary and its round share them."""
    seen = {}

    class FakeGrader:
        def __init__(self, options):
            seen["options"] = options

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            pass

    class FakeCanary:
        def __init__(self, grader):
            pass

        def ensure(self):
            seen["canary"] = True

    def fake_watch(notebook, settings, rubric_path=None):
        seen["settings"], seen["rubric"] = settings, rubric_path
        return 0

    import grader.canary
    import grader.federated.live
    import grader.pipeline

    monkeypatch.setattr(grader.pipeline, "Grader", FakeGrader)
    monkeypatch.setattr(grader.canary, "Canary", FakeCanary)
    monkeypatch.setattr(grader.federated.live, "watch", fake_watch)
    rubric = tmp_path / "rubric.toml"
    args = cli.build_parser().parse_args(
        ["fl-round", "nb.ipynb", "--memory-limit", "3", "--start-round", "21", "--deadline", "40",
         "--keep", str(tmp_path), "--rubric", str(rubric)])
    assert args.func(args) == 0
    graded, settings = seen["options"], seen["settings"]
    assert seen["canary"] and graded.fl_round == "off" and graded.rubric_path == rubric
    assert graded.limits.memory_bytes == settings.limits.memory_bytes == 3 * GiB
    assert (settings.start_round, settings.deadline, settings.keep_dir) == (21, 40.0, tmp_path)
    assert settings.grace == default("round_grace") and seen["rubric"] == rubric


# --- no default written twice in grader/ -------------------------------------------------------


def _number(node: ast.AST) -> float | None:
    """The value of a literal number, or of a product/power of literals and GiB/MiB."""
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        return node.value
    if isinstance(node, ast.Name) and node.id in ("GiB", "MiB"):
        return getattr(options, node.id)
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Mult, ast.Pow)):
        left, right = _number(node.left), _number(node.right)
        if left is not None and right is not None:
            return left * right if isinstance(node.op, ast.Mult) else left ** right
    return None


OPTION_LIKE = ("timeout", "seconds", "deadline", "bytes", "budget", "grace", "round", "restarts")
"""Names of fields and parameters that hold an option's kind of value (besides the options' own)."""


def _declared_defaults(node: ast.AST):
    """(line, name, value, what) for each place `node` declares a default: a class-body field, a
    function parameter's default, argparse's `default=` (name: the flag)."""
    for sub in ast.walk(node):
        if isinstance(sub, ast.ClassDef):
            for stmt in sub.body:
                if isinstance(stmt, ast.AnnAssign) and stmt.value is not None:
                    name = ast.unparse(stmt.target)
                    yield stmt.lineno, name, stmt.value, f"field {sub.name}.{name}"
        elif isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef)):
            params = sub.args.posonlyargs + sub.args.args
            pairs = list(zip(params[len(params) - len(sub.args.defaults):], sub.args.defaults))
            pairs += [(a, d) for a, d in zip(sub.args.kwonlyargs, sub.args.kw_defaults) if d]
            for arg, value in pairs:
                yield value.lineno, arg.arg, value, f"parameter {sub.name}({arg.arg}=...)"
        elif isinstance(sub, ast.Call) and getattr(sub.func, "attr", "") == "add_argument":
            flag = next((a.value for a in sub.args if isinstance(a, ast.Constant)), "")
            for keyword in sub.keywords:
                if keyword.arg == "default":
                    yield keyword.value.lineno, flag, keyword.value, f"add_argument({flag!r}, default=...)"


def _redeclared(tree: ast.AST) -> list[tuple[int, str]]:
    """Where `tree` declares an option's default again: a declared flag with a default, or a
    field or parameter named like an option whose default is some option's default value."""
    values = {d.default for d in OPTIONS.values()
              if type(d.default) in (int, float) and d.default not in (0, 1, 2)}
    flags = {d.flag for d in OPTIONS.values() if d.flag}
    found = []
    for line, name, value, what in _declared_defaults(tree):
        option_like = name in OPTIONS or name.endswith(OPTION_LIKE)
        same_text = (name in OPTIONS and isinstance(value, ast.Constant) and value.value is not None
                     and value.value == OPTIONS[name].default)  # isolation="auto" again
        if name in flags or same_text or (option_like and _number(value) in values):
            found.append((line, f"{what} = {ast.unparse(value)}"))
    return found


def test_no_option_default_is_written_outside_options_py():
    """Each default value appears once in grader/: an option's flag or default value is not
    declared again as a field, a parameter or a flag's default elsewhere (the timeouts and the
    memory limit were written in five places before)."""
    found = []
    for path in sorted(GRADER.rglob("*.py")):
        rel = path.relative_to(GRADER)
        if rel.parts[:2] == ("environment", "site") or rel == Path("options.py"):
            continue  # the course's own library (not the grader's), and the declarations
        found += [f"{rel}:{line} {what}" for line, what in _redeclared(ast.parse(path.read_text()))]
    assert found == []


def test_the_scan_finds_a_duplicated_default():
    """The scan above sees a timeout or the memory limit written again (so its passing means
    something), and leaves numbers that only happen to be equal alone."""
    code = ("class A:\n    cell_timeout: float = 120.0\n    memory_bytes: int = 4 * GiB\n"
            "    width: int = 120\n"
            "def f(total_timeout=900, limit=600, isolation='auto', mode='auto'):\n"
            "    parser.add_argument('--cell-timeout', default=3)\n"
            "    parser.add_argument('--port', default=25)\n")
    assert _redeclared(ast.parse(code)) == [
        (2, "field A.cell_timeout = 120.0"), (3, "field A.memory_bytes = 4 * GiB"),
        (5, "parameter f(total_timeout=...) = 900"), (5, "parameter f(isolation=...) = 'auto'"),
        (6, "add_argument('--cell-timeout', default=...) = 3")]
