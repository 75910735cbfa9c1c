"""The suite in pytest-xdist workers (`tox`: `-n 2 --dist loadgroup`) without setting anything
up twice and without disturbing a test that measures time (registered by tests/conftest.py).

- **Groups.** Tests that share a fixture set up once per module, package or session (a graded
  batch, the cluster, the release, the warm grader), directly or through other tests, form one
  group, run by one worker: session fixtures are per worker process, so a second worker would
  grade `pool_batches` again. An `xdist_group` mark joins a group too. The workers write each
  test's group into a file of the run and the scheduler reads it there (xdist 3.8 carries the
  marks in the test's node id, which pytest 9.2 no longer lets it change).
- **Order.** The groups with the most `slow` tests are handed out first: the longest work starts
  first, short tests fill in at the end.
- **`serial` tests** (wall-clock bounds) run alone: while one runs, the other workers wait
  between two tests.
"""
from __future__ import annotations

import collections
import contextlib
import fcntl
import json
import os
import shutil
import tempfile
import uuid
from pathlib import Path

import pytest


class SideBySide:
    """The plugin, in the controller and in every worker (without xdist it does nothing)."""

    def __init__(self, config: pytest.Config) -> None:
        self.folder: Path | None = None
        self.turnstile: Turnstile | None = None
        if hasattr(config, "workerinput"):
            self.folder = run_folder(config.workerinput["testrunuid"])
            self.turnstile = Turnstile(self.folder)
        elif getattr(config.option, "numprocesses", None):  # the controller of `-n N`
            config.option.testrunuid = config.option.testrunuid or uuid.uuid4().hex
            self.folder = run_folder(config.option.testrunuid)
            self.folder.mkdir()

    @pytest.hookimpl(trylast=True)  # the selected tests only
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        if self.turnstile is None:
            return
        group = groups(items)
        slow = collections.Counter(group[item] for item in items if item.get_closest_marker("slow"))
        items.sort(key=lambda item: -slow[group[item]])  # stable: file order within a group
        written = self.folder / f"groups-{os.getpid()}.json"
        written.write_text(json.dumps({item.nodeid: group[item] for item in items}))
        written.replace(self.folder / "groups.json")  # every worker writes the same

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_make_scheduler(self, config: pytest.Config, log):
        if config.getvalue("dist") != "loadgroup":
            return None
        config.option.loadscopereorder = False  # the workers' order: longest groups first
        return group_scheduling(config, log, self.folder / "groups.json")

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_runtest_protocol(self, item: pytest.Item):
        """Set-up, test and tear-down of a `serial` test with no other test running."""
        if self.turnstile is None:
            return (yield)
        with self.turnstile.enter(alone=item.get_closest_marker("serial") is not None):
            return (yield)

    def pytest_unconfigure(self) -> None:
        if self.turnstile is not None:
            self.turnstile.close()
        elif self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)


def run_folder(run: str) -> Path:
    """The files this run's controller and workers share."""
    return Path(tempfile.gettempdir()) / f"pytest-side-by-side-{run}"


def shared_fixtures(item: pytest.Item) -> set[tuple[str, ...]]:
    """Each fixture of this project set up once per module, package or session that `item` uses
    (and its `xdist_group` marks)."""
    keys = {("mark", str(mark.args[0] if mark.args else mark.kwargs.get("name", "default")))
            for mark in item.iter_markers("xdist_group")}
    for definitions in item._fixtureinfo.name2fixturedefs.values():
        fixture = definitions[-1]
        if fixture.scope == "function" or not fixture.baseid:  # per test, or pytest's own
            continue
        if fixture.scope in ("module", "class"):
            keys.add(("module", item.nodeid.split("::")[0]))
        else:
            keys.add((fixture.scope, fixture.baseid, fixture.argname))
    return keys


def groups(items: list[pytest.Item]) -> dict[pytest.Item, str]:
    """Each test's group: the tests that share something, directly or through other tests, have
    the same; a test that shares nothing is a group of its own."""
    parent: dict = {}

    def root(key):
        while parent.setdefault(key, key) != key:
            parent[key] = parent[parent[key]]  # halves the path
            key = parent[key]
        return key

    shared = {item: shared_fixtures(item) for item in items}
    for keys in shared.values():
        for key in keys:
            parent[root(key)] = root(min(keys))
    return {item: "::".join(root(min(keys))[1:]) if keys else item.nodeid
            for item, keys in shared.items()}


def group_scheduling(config: pytest.Config, log, groups_file: Path):
    """xdist's scheduler by scope, the scope of a test being its group."""
    from xdist.scheduler import LoadScopeScheduling

    class GroupScheduling(LoadScopeScheduling):
        groups: dict[str, str] | None = None

        def _split_scope(self, nodeid: str) -> str:
            if self.groups is None:  # the workers have collected when the scheduler asks
                self.groups = json.loads(groups_file.read_text())
            return self.groups.get(nodeid, nodeid)

    return GroupScheduling(config, log)


class Turnstile:
    """Two `flock`ed files of the run: whoever holds the gate may enter the room; a test enters it
    shared, a `serial` test alone and keeps the gate until it is done, so that no test starts
    meanwhile."""

    def __init__(self, folder: Path) -> None:
        self.gate, self.room = (os.open(folder / name, os.O_CREAT | os.O_RDWR, 0o600)
                                for name in ("gate", "room"))

    @contextlib.contextmanager
    def enter(self, alone: bool):
        fcntl.flock(self.gate, fcntl.LOCK_EX)
        try:
            fcntl.flock(self.room, fcntl.LOCK_EX if alone else fcntl.LOCK_SH)
        finally:
            if not alone:
                fcntl.flock(self.gate, fcntl.LOCK_UN)
        try:
            yield
        finally:
            fcntl.flock(self.room, fcntl.LOCK_UN)
            if alone:
                fcntl.flock(self.gate, fcntl.LOCK_UN)

    def close(self) -> None:
        os.close(self.gate)
        os.close(self.room)
