"""Every option of the grader, declared once: its default, unit, help and command-line flag.

The settings dataclasses take their fields from here and the command line is built from the same
declarations, so a default is written in this module and nowhere else:

    @dataclass(frozen=True)
    class Limits:
        memory_bytes: int | None = option("memory_bytes")      # default, unit and help from here

    add_arguments(parser, GRADING)          # --cell-timeout, --memory-limit, ... with their help
    options = from_arguments(args, Options)  # Options(limits=Limits(memory_bytes=...), ...)

`pipeline.Options`, `sandbox.limits.Limits`, `checks.runner.RunnerOptions` and
`federated.settings.RoundSettings` declare their fields with `option(NAME)` (and nest another
options dataclass with `group(Cls)`); `cli.py` builds every subcommand with `add_arguments` and
`from_arguments`. Standard library only, imports nothing of the grader (anything may import it).
"""
from __future__ import annotations

import argparse
import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable

GiB = 1024 ** 3
MiB = 1024 ** 2

ISOLATION_MODES = ("auto", "require", "off")
FL_ROUND_MODES = ("auto", "on", "off")
FL_ROUND_SIZES = ("full", "small")
FL_ROUND_SIZE_CHOICES = ("auto", *FL_ROUND_SIZES)

_OPTION = "grader.option"  # the key of a dataclass field's metadata that holds its `Declared`
_GROUP = "grader.options_group"  # ... that marks a nested options dataclass


@dataclass(frozen=True)
class Declared:
    """One option. `flag`: its command-line flag (None: not on the command line); the flag's
    value, parsed by `parse`, is the option's value (`--memory-limit 6` gives 6 GiB in bytes).
    `shown`: how the help names the default (None: the default and the unit)."""

    name: str
    default: Any
    help: str
    unit: str = ""
    flag: str | None = None
    parse: Callable[[str], Any] | None = None
    metavar: str | None = None
    choices: tuple[str, ...] | None = None
    shown: str | None = None

    def default_text(self) -> str:
        if self.shown is not None:
            return self.shown
        value = self.default
        if self.unit == "GiB":
            value = value / GiB
        if isinstance(value, float):
            value = f"{value:g}"
        return f"{value} {self.unit}" if self.unit and self.unit != "bytes" else str(value)


OPTIONS: dict[str, Declared] = {}


def declare(name: str, default: Any, help: str, **details: Any) -> Declared:
    """Declare the option `name` (once: a second declaration is a bug)."""
    if name in OPTIONS:
        raise ValueError(f"option {name!r} is declared twice")
    OPTIONS[name] = Declared(name, default, help, **details)
    return OPTIONS[name]


def _gib(text: str) -> int:
    """A size given in GiB on the command line (`--memory-limit 4.5`), in bytes."""
    return int(float(text) * GiB)


# --- a grading run (pipeline.Options; `grade`, `check`, `validate`) ------------------------------

declare("cell_timeout", 120.0, "seconds one notebook cell may run", unit="s",
        flag="--cell-timeout", parse=float, metavar="S")
declare("notebook_timeout", 900.0, "seconds a whole notebook may run", unit="s",
        flag="--notebook-timeout", parse=float, metavar="S")
declare("stall_timeout", 60.0, "seconds a kernel may leave the grader's probes unanswered while a "
        "cell runs before it counts as stalled: stopped, the notebook run again once, a second "
        "stall a grader fault (a busy kernel answers)", unit="s")
declare("fl_round", "auto", "run the federated round check: auto = only where CUDA is available",
        flag="--fl-round", choices=FL_ROUND_MODES)
declare("fl_round_size", "auto", "data of a federated round: full = the course's 25,000/10,000 "
        "images per client, small = a small synthetic set, auto = full on CUDA, small on the CPU; "
        "both train with the course's epochs, batch size and learning rate",
        flag="--fl-round-size", choices=FL_ROUND_SIZE_CHOICES)
declare("data_dir", None, "real CIFAR-100 folder (cifar-100-python with train and test)",
        flag="--data", parse=Path, metavar="DIR",
        shown="$GRADER_CIFAR100_DIR, else synthetic data; small for a round on CPU")
declare("rubric_path", None, "points per check", flag="--rubric", parse=Path, metavar="TOML",
        shown="grader/checks/rubric.toml")
declare("out_dir", Path("grades"), "the gradebook's folder (grades.json, feedback, report)",
        flag="--out", parse=Path, metavar="DIR")
declare("workers", 0, "submissions graded in parallel", flag="--workers", parse=int, metavar="N",
        shown="number of cores; validate: 2")
declare("cluster", None, "grade on a Dask cluster: a scheduler address (tcp://host:8786) or local:N "
        "(N worker processes here); docs/cluster.md", flag="--cluster", parse=str,
        metavar="ADDRESS", shown="this machine's process pool")

# --- submissions from a learning platform and grades back into it (`grader.lms`; `grade`) -------

declare("lms", None, "the learning platform the submissions were downloaded from and whose "
        "gradebook file --gradebook is (a name in grader.lms.PLATFORMS: canvas, moodle); "
        "docs/lms.md", flag="--lms", parse=str.lower, metavar="PLATFORM",
        shown="recognise Canvas and Moodle download names, write no gradebook")
declare("gradebook", None, "the platform's gradebook file to fill in (Canvas: the gradebook "
        "export; Moodle: the grading worksheet), written into OUT/lms/", flag="--gradebook",
        parse=Path, metavar="CSV", shown="none")
declare("assignment", None, "the Canvas gradebook column to fill: its name, its id or "
        "'Name (id)'", flag="--assignment", parse=str, metavar="NAME",
        shown="the export's only assignment column")
declare("archive_max_bytes", 4 * GiB, "most bytes a submissions archive (.zip) may unpack to, "
        "in GiB on the command line", unit="GiB", flag="--archive-max-size", parse=_gib,
        metavar="GIB")
declare("archive_max_files", 20_000, "most files a submissions archive may hold",
        flag="--archive-max-files", parse=int, metavar="N")
declare("archive_max_ratio", 200, "largest compression ratio of one archived file over 1 MiB "
        "(a zip bomb is refused)", flag="--archive-max-ratio", parse=int, metavar="R")

# --- the sandbox of every student process (sandbox.limits.Limits) -------------------------------

declare("memory_bytes", 4 * GiB, "memory (RLIMIT_DATA: heap and private mappings) of each "
        "student process, in GiB on the command line", unit="GiB", flag="--memory-limit",
        parse=_gib, metavar="GIB")
declare("cpu_seconds", 900, "CPU seconds of each student process (RLIMIT_CPU)", unit="s")
declare("file_size_bytes", 256 * MiB, "largest file a student process may write (RLIMIT_FSIZE)",
        unit="bytes")
declare("max_processes", 512, "processes and threads of one sandbox (RLIMIT_NPROC; only with "
        "namespace isolation)")
declare("open_files", 1024, "open files of each student process (RLIMIT_NOFILE)")
declare("address_space_bytes", None, "address space of each student process (RLIMIT_AS); off: "
        "torch and CUDA reserve far more than they use", unit="bytes")
declare("isolation", "auto", "namespaces for student code (own loopback, hidden project, process "
        "limit): auto = where the platform allows (README: Running untrusted code)",
        flag="--isolation", choices=ISOLATION_MODES)

# --- the check workers (checks.runner.RunnerOptions) -------------------------------------------

declare("call_timeout", 10.0, "seconds of one probe call (the student's function on one input)",
        unit="s")
declare("load_timeout", 180.0, "seconds to start a check worker and load the program (imports "
        "included)", unit="s")
declare("check_budget", 300.0, "seconds for all of one check; properties not reached fail as "
        "not checked", unit="s")
declare("max_restarts", 2, "fresh workers after a timeout or crash, per check")
declare("max_examples", None, "examples per property, overriding every check's own bound (tests, "
        "quick runs)", shown="each check's own")
declare("fork_server", True, "pay the course imports once per grading process, not once per check")

# --- one federated round (federated.settings.RoundSettings; `fl-round`) -------------------------

declare("cpu_round_deadline", 180.0, "seconds for a whole round on the CPU", unit="s")
declare("gpu_round_deadline", 600.0, "seconds for a whole round with CUDA", unit="s")
declare("round_deadline", None, "seconds for the whole round", unit="s", flag="--deadline",
        parse=float, metavar="S", shown=f"{OPTIONS['cpu_round_deadline'].default_text()} on CPU, "
                                        f"{OPTIONS['gpu_round_deadline'].default_text()} with CUDA")
declare("start_round", 25, "the round the aggregator starts (and ends) with; rounds 21-40 train "
        "with a tenth of the initial rate, so the schedule is exercised for real",
        flag="--start-round", parse=int, metavar="R")
declare("keep_dir", None, "keep the round's folders (logs, record) under DIR", flag="--keep",
        parse=Path, metavar="DIR", shown="removed")
declare("round_grace", 10.0, "seconds for the clients to exit after the aggregator ended", unit="s")

# --- the student release (`release`) ------------------------------------------------------------

declare("release_dir", Path("dist/student"), "folder for the student release: exercise.ipynb, "
        "the self-check kit's wheel and README.md", flag="--out", parse=Path, metavar="DIR")

# --- Gradescope (`gradescope-bundle`, `gradescope-run`) ------------------------------------------

declare("bundle_path", Path("autograder.zip"), "the Gradescope autograder zip to write",
        flag="--out", parse=Path, metavar="ZIP")
declare("autograder_root", None, "Gradescope's autograder tree (submission/, results/, source/)",
        flag="--root", parse=Path, metavar="DIR", shown="$AUTOGRADER_ROOT, else /autograder")

# The options of each subcommand (`cli.py`).
GRADING = ("cell_timeout", "notebook_timeout", "memory_bytes", "isolation", "fl_round",
           "fl_round_size", "data_dir", "rubric_path")
ROUND = ("start_round", "round_deadline", "keep_dir", "memory_bytes", "fl_round_size", "data_dir",
         "rubric_path")
RELEASE = ("release_dir",)
GRADESCOPE_BUNDLE = ("bundle_path",)
GRADESCOPE_RUN = ("autograder_root",) + GRADING
LMS = ("lms", "gradebook", "assignment", "archive_max_bytes", "archive_max_files",
       "archive_max_ratio")


def default(name: str) -> Any:
    """The declared default of option `name`."""
    return OPTIONS[name].default


def option(name: str) -> Any:
    """A dataclass field for option `name`: its default, and the declaration in the metadata."""
    declared = OPTIONS[name]
    return dataclasses.field(default=declared.default, metadata={_OPTION: declared})


def group(cls: type) -> Any:
    """A dataclass field holding another options dataclass (`Options.limits`), built from its
    own declared defaults."""
    return dataclasses.field(default_factory=cls, metadata={_GROUP: cls})


def declared(cls: type) -> list[Declared]:
    """The options an options dataclass takes, nested groups included, in field order."""
    found: list[Declared] = []
    for f in dataclasses.fields(cls):
        if _OPTION in f.metadata:
            found.append(f.metadata[_OPTION])
        elif _GROUP in f.metadata:
            found += declared(f.metadata[_GROUP])
    return found


def add_arguments(parser: argparse.ArgumentParser, names: Iterable[str]) -> None:
    """Add the flags of the options `names` to `parser`; each value is parsed into the option's
    own unit, under the option's name (`args.memory_bytes`, in bytes)."""
    for name in names:
        d = OPTIONS[name]
        if d.flag is None:
            raise ValueError(f"option {name!r} has no command-line flag")
        extra = {"choices": d.choices} if d.choices else {"type": d.parse, "metavar": d.metavar}
        parser.add_argument(d.flag, dest=d.name, default=d.default,
                            help=f"{d.help} (default: {d.default_text()})", **extra)


def from_arguments(args: argparse.Namespace, cls: type, **overrides: Any) -> Any:
    """An instance of the options dataclass `cls` from parsed arguments: each field whose option
    the command line has comes from there (nested groups too), the others keep their default;
    `overrides` (field names of `cls`) win."""
    values: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        if not f.init:
            continue
        if _OPTION in f.metadata and hasattr(args, f.metadata[_OPTION].name):
            values[f.name] = getattr(args, f.metadata[_OPTION].name)
        elif _GROUP in f.metadata:
            values[f.name] = from_arguments(args, f.metadata[_GROUP])
    values.update(overrides)
    return cls(**values)
