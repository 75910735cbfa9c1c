"""The suite's own xdist plugin (tests/side_by_side.py): which tests share a worker, and a
`serial` test waiting for the tests already running and holding the next ones back."""
from __future__ import annotations

import threading
from types import SimpleNamespace

from tests.side_by_side import Turnstile, groups


class FakeItem:
    """What `groups` reads of a test: its node id, its fixtures' scopes and where they are
    defined, its marks."""

    def __init__(self, nodeid: str, *fixtures: tuple[str, str, str], group: str | None = None):
        self.nodeid = nodeid
        defs = {name: [SimpleNamespace(argname=name, scope=scope, baseid=baseid)]
                for name, scope, baseid in fixtures}
        self._fixtureinfo = SimpleNamespace(name2fixturedefs=defs)
        self.marks = [SimpleNamespace(args=(group,), kwargs={})] if group else []

    def iter_markers(self, name):
        return iter(self.marks if name == "xdist_group" else [])


POOL = ("pool_batches", "session", "tests")
TMP = ("tmp_path_factory", "session", "")  # pytest's own: shared by everything, joins nothing


def test_tests_that_share_a_fixture_directly_or_through_others_share_a_group():
    items = [FakeItem("tests/a/test_x.py::one", ("batch", "module", "tests/a/test_x.py"), TMP),
             FakeItem("tests/a/test_x.py::two", ("batch", "module", "tests/a/test_x.py"), POOL),
             FakeItem("tests/b/test_y.py::three", ("run_dirs", "module", "tests")),
             FakeItem("tests/c/test_z.py::four", ("samples", "module", "tests/c/test_z.py")),
             FakeItem("tests/c/test_z.py::five", ("samples", "module", "tests/c/test_z.py"), POOL),
             FakeItem("tests/d/test_w.py::six", ("cluster", "package", "tests/d"), group="pool"),
             FakeItem("tests/e/test_v.py::seven", group="pool"),
             FakeItem("tests/f/test_u.py::alone", TMP, ("tmp_path", "function", "")),
             FakeItem("tests/f/test_u.py::apart", ("release", "session", "tests/f"))]
    group = groups(items)
    pool = {group[items[i]] for i in (0, 1, 3, 4)}
    assert len(pool) == 1  # one through two, four through five: all use the pool's batch
    assert group[items[2]] not in pool  # a module fixture of its own (conftest's) shares nothing
    assert group[items[5]] == group[items[6]] not in pool  # an xdist_group mark
    assert group[items[7]] == "tests/f/test_u.py::alone"  # nothing shared: a group of its own
    assert len(set(group.values())) == 5


def test_a_long_chain_of_shared_fixtures_is_one_group_whatever_the_order():
    links = [FakeItem(f"tests/test_chain.py::t{i}", (f"f{i}", "session", "tests"),
                      (f"f{i + 1}", "session", "tests")) for i in range(12)]
    for items in (links, links[::-1], links[::2] + links[1::2]):
        assert len(set(groups(items).values())) == 1


def test_a_serial_test_waits_for_running_tests_and_holds_back_the_next(tmp_path):
    running, serial, following = (Turnstile(tmp_path) for _ in range(3))  # one per worker
    events: list[str] = []
    serial_in, next_in, serial_done = threading.Event(), threading.Event(), threading.Event()

    def run_serial():
        with serial.enter(alone=True):
            events.append("serial in")
            serial_in.set()
            serial_done.wait(10)
            events.append("serial out")

    def run_next():
        with following.enter(alone=False):
            events.append("next in")
            next_in.set()

    threads = [threading.Thread(target=run_serial), threading.Thread(target=run_next)]
    with running.enter(alone=False):
        threads[0].start()
        assert not serial_in.wait(0.5)  # a test is running: the serial one waits for it
        events.append("running out")
    assert serial_in.wait(10)
    threads[1].start()
    assert not next_in.wait(0.5)  # the serial test runs: the next one waits for it
    serial_done.set()
    assert next_in.wait(10)
    for thread in threads:
        thread.join(10)
    assert events == ["running out", "serial in", "serial out", "next in"]
    for turnstile in (running, serial, following):
        turnstile.close()
