"""The per-run directory a student process lives in, and the environment it gets.

On Kaggle the notebook read its inputs from `/kaggle/input`. The grader rewrites that prefix to
`RUN/kaggle/input` (see `kaggle_input`) and builds this tree:

    RUN/
      kaggle/input/cifar100/{train,test}      symlinks to the CIFAR-100 files (synthetic or real)
      kaggle/input/kubeedge-sedna/lib/        the course library: sedna/, cifar100_resnets.py,
                                              edge_ai_w5_sedna_configuration.py, plato -> the
                                              installed plato package, requirements.txt
      config/edge_ai_w5_plato.yml             the course Plato YAML with the aggregator's port
      work/  home/  tmp/                      cwd, HOME and TMPDIR of the student process

`student_env` gives the variables a student process needs and nothing from the grader's own
environment but the GPUs it may use (`CUDA_VISIBLE_DEVICES`), so no grader setting or secret
leaks into student code.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

SITE_DIR = Path(__file__).resolve().parent / "site"
"""Put on student processes' sys.path (PYTHONPATH) only; never installed, never on the grader's."""

KAGGLE_INPUT = "/kaggle/input"
COURSE_YAML = SITE_DIR / "edge_ai_w5_course.yml"
PASSED_THROUGH = ("CUDA_VISIBLE_DEVICES",)
"""Variables of the grader's environment that student processes (kernels, check workers, the
round's clients) get too: which GPUs they may use."""
SITE_MODULES = ("sedna", "cifar100_resnets.py", "edge_ai_w5_sedna_configuration.py",
                "edge_ai_w5_course.yml")
DEFAULT_AGG_IP = "127.0.0.1"
DEFAULT_AGG_PORT = 7363

LIB_REQUIREMENTS = """\
# The course installed these before importing Sedna; the offline environment already has them.
plato-learn==0.4.0
nest_asyncio
python-socketio
aiohttp
pyyaml
"""


def kaggle_input(run_dir: Path) -> Path:
    """Where `/kaggle/input` of the notebook lives for the run in `run_dir`."""
    return Path(run_dir) / "kaggle" / "input"


def path_mapping(run_dir: Path) -> dict[str, str]:
    """Prefix rewrite for notebook sources: {"/kaggle/input": "RUN/kaggle/input"}."""
    return {KAGGLE_INPUT: str(kaggle_input(run_dir))}


@dataclass(frozen=True)
class RunLayout:
    """Paths of one built run directory (see the module docstring)."""

    root: Path
    agg_ip: str
    agg_port: int

    @property
    def kaggle_input(self) -> Path:
        return kaggle_input(self.root)

    @property
    def data_dir(self) -> Path:
        return self.kaggle_input / "cifar100"

    @property
    def lib_dir(self) -> Path:
        return self.kaggle_input / "kubeedge-sedna" / "lib"

    @property
    def config_file(self) -> Path:
        return self.root / "config" / "edge_ai_w5_plato.yml"

    @property
    def work_dir(self) -> Path:
        return self.root / "work"

    @property
    def home_dir(self) -> Path:
        return self.root / "home"

    @property
    def tmp_dir(self) -> Path:
        return self.root / "tmp"

    def env(self, client_id: int | None = None, extra: dict[str, str] | None = None) -> dict[str, str]:
        """Shorthand for `student_env(self, ...)`."""
        return student_env(self, client_id=client_id, extra=extra)


def build_run_dir(
    run_dir: Path,
    data_dir: Path,
    *,
    agg_ip: str = DEFAULT_AGG_IP,
    agg_port: int = DEFAULT_AGG_PORT,
    plato_dir: Path | None = None,
) -> RunLayout:
    """Create the tree of the module docstring under `run_dir` (which may already exist).

    `data_dir` holds CIFAR-100's `train` and `test` (see `data.resolve_data_dir`); `plato_dir`
    defaults to the plato package installed for this interpreter.
    """
    layout = RunLayout(Path(run_dir).resolve(), agg_ip, int(agg_port))
    data_dir = Path(data_dir).resolve()
    for folder in (layout.data_dir, layout.lib_dir, layout.config_file.parent,
                   layout.work_dir, layout.home_dir, layout.tmp_dir):
        folder.mkdir(parents=True, exist_ok=True)

    for split in ("train", "test"):
        source = data_dir / split
        if not source.is_file():
            raise FileNotFoundError(f"CIFAR-100 file {source} is missing (expected 'train' and 'test')")
        _symlink(source, layout.data_dir / split)

    for name in SITE_MODULES:
        _symlink(SITE_DIR / name, layout.lib_dir / name)
    _symlink(Path(plato_dir) if plato_dir else installed_plato_dir(), layout.lib_dir / "plato")
    (layout.lib_dir / "requirements.txt").write_text(LIB_REQUIREMENTS)

    write_plato_config(layout.config_file, agg_ip, int(agg_port))
    return layout


def student_env(
    layout: RunLayout,
    *,
    client_id: int | None = None,
    extra: dict[str, str] | None = None,
) -> dict[str, str]:
    """The complete environment of a student process (not merged with `os.environ`).

    PYTHONPATH is the course site only (never the project root, so `grader` is not importable);
    bytecode writing is off so imports do not write into the site or the venv; HOME and TMPDIR lie
    in the run directory; Hugging Face libraries (imported by Plato) are told to stay offline.
    `client_id` (federated clients: 1..N) becomes `GRADER_CLIENT_ID`; `extra` is added last.
    The grader's own `CUDA_VISIBLE_DEVICES` passes through when set (`PASSED_THROUGH`): a machine
    that hands the grader some of its GPUs hands the students the same ones, never others.
    """
    env = {
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), "/usr/local/bin", "/usr/bin", "/bin"]),
        "PYTHONPATH": str(SITE_DIR),
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONNOUSERSITE": "1",
        "PYTHONUNBUFFERED": "1",
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "HOME": str(layout.home_dir),
        "TMPDIR": str(layout.tmp_dir),
        "MPLBACKEND": "Agg",
        "MPLCONFIGDIR": str(layout.tmp_dir / "matplotlib"),
        "HF_DATASETS_OFFLINE": "1",
        "HF_HUB_OFFLINE": "1",
        "config_file": str(layout.config_file),
        "GRADER_AGG_IP": layout.agg_ip,
        "GRADER_AGG_PORT": str(layout.agg_port),
    }
    env.update({name: os.environ[name] for name in PASSED_THROUGH if name in os.environ})
    if client_id is not None:
        env["GRADER_CLIENT_ID"] = str(int(client_id))
    env.update(extra or {})
    return env


@functools.lru_cache(maxsize=1)
def installed_plato_dir() -> Path:
    """The `plato` package folder of this interpreter (found without importing it)."""
    spec = importlib.util.find_spec("plato")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(
            "plato-learn is not installed for this Python: pip install plato-learn==0.4.0"
        )
    return Path(list(spec.submodule_search_locations)[0]).resolve()


def write_plato_config(path: Path, agg_ip: str, agg_port: int) -> Path:
    """Render the course YAML with the aggregator's address (Plato freezes the port on import)."""
    path.write_text(_plato_config_text(agg_ip, int(agg_port)), encoding="utf-8")
    return path


@functools.lru_cache(maxsize=16)
def _plato_config_text(agg_ip: str, agg_port: int) -> str:
    """Rendered once per address: every check of every submission writes one (YAML is slow)."""
    config = yaml.safe_load(COURSE_YAML.read_text(encoding="utf-8"))
    config["server"].update(address=agg_ip, port=agg_port)
    return yaml.safe_dump(config, sort_keys=False)


def _symlink(target: Path, link: Path) -> None:
    """Point `link` at `target`, replacing an older link (a rebuilt run directory)."""
    if link.is_symlink() or link.exists():
        if link.is_symlink() and Path(os.readlink(link)) == target:
            return
        link.unlink()
    link.symlink_to(target, target_is_directory=target.is_dir())
