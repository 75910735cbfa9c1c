"""The check worker and the grader's side of it: isolation, protocol, timeouts, crashes."""
import time

import numpy as np
import pytest

from grader.checks.session import Session
from grader.environment.layout import SITE_DIR
from grader.sandbox.errors import HarnessError, WorkerLost
from grader.sandbox.hosts import ForkServerHost, FreshHost
from grader.sandbox.clock import LOAD_ALLOWANCE
from grader.sandbox.process import Limits, isolation_status

from tests.helpers import definitions as shared_definitions
from tests.sandbox.helpers import alive


def definitions(*sources: str):
    return shared_definitions(*sources, id_prefix="c")


LIMITS = Limits(cpu_seconds=120, file_size_bytes=16 * 1024 ** 2)
TEN = np.arange(10)



@pytest.fixture
def session_for(run_dirs):
    opened = []

    def make(source: str, names=("parallel_seeded_choice",), host=None, **options) -> Session:
        run_dir, env = run_dirs()
        program = [s.to_dict() for s in definitions(source).program(names)]
        session = Session(host or FreshHost(SITE_DIR, LIMITS), program, run_dir, env, **options)
        opened.append(session)
        return session

    yield make
    for session in opened:
        session.close()


CHOICE = """\
import numpy as np
import os, sys

def parallel_seeded_choice(array_list, seed, n):
    {body}
    rng = np.random.default_rng(seed)
    chosen = rng.choice(len(array_list[0]), n, replace=False)
    return [np.asarray(array)[chosen] for array in array_list]
"""


def choice(body: str = "pass") -> str:
    return CHOICE.format(body=body)


def call(session: Session, n: int = 3, seed: int = 42, arrays=(TEN, TEN)):
    return session.call("seeded_choice", arrays=list(arrays), seed=seed, n=n)


def test_worker_sees_the_course_site_but_not_the_grader(session_for):
    source = choice() + """
PATH = list(sys.path)
FOUND = [__import__("importlib.util").util.find_spec(m) is not None
         for m in ("grader", "codec", "probes", "worker", "sedna")]
"""
    session = session_for(source, names=("PATH", "FOUND"))
    path = session.call("value", name="PATH").value["repr"]
    assert path.startswith(repr([str(SITE_DIR)])[:-1])
    assert session.call("value", name="FOUND").value["repr"] == "[False, False, False, False, True]"


def test_worker_gets_only_the_student_environment_and_its_run_dir(session_for, monkeypatch):
    monkeypatch.setenv("GRADER_TEST_SECRET", "do-not-leak")
    source = ("import os\nKEYS = [k in os.environ for k in ('GRADER_TEST_SECRET', 'HOME', "
              "'config_file')]\nCWD = os.getcwd()\n")
    session = session_for(source, names=("KEYS", "CWD"))
    assert session.call("value", name="KEYS").value["repr"] == "[False, True, True]"
    cwd = session.call("value", name="CWD").value["repr"]
    assert cwd.strip("'") == str(session.run_dir / "work")


def test_student_exception_is_an_error_reply_with_student_frames_only(session_for):
    session = session_for(choice("helper = lambda: array_list[5]\n    helper()"))
    reply = call(session)
    assert reply.value is None
    error = reply.error
    assert (error.type, error.message) == ("IndexError", "list index out of range")
    assert error.traceback[0] == "cell c0, line 6, in parallel_seeded_choice"
    assert error.where == "cell c0, line 5, in <lambda>"
    assert all(line.startswith(("cell c0", "    ")) for line in error.traceback)


@pytest.mark.serial  # a wall-clock bound
def test_endless_loop_times_out_and_the_next_input_gets_a_fresh_worker(session_for):
    session = session_for(choice("if n == 1:\n        while True: pass"), call_timeout=1.5)
    started = time.monotonic()
    with pytest.raises(WorkerLost) as lost:
        call(session, n=1)
    # on time on a quiet machine; a busy one stretches the time while the loop waits for a CPU
    assert lost.value.reason == "timeout" and time.monotonic() - started < 1.5 * LOAD_ALLOWANCE + 3
    with pytest.raises(WorkerLost):  # the same input is not tried again
        call(session, n=1)
    assert call(session, n=2).value["first"]["count"] == 2
    assert session.restarts == 1


def test_prefetched_calls_are_answered_from_memory_in_one_stream(session_for):
    session = session_for(choice())
    big = np.arange(30_000)  # ~200 KB a request: far more than a pipe holds, both ways
    calls = [("seeded_choice", dict(arrays=[big, big], seed=seed, n=5000))
             for seed in range(60)]
    session.prefetch(calls + calls[:3], until=time.monotonic() + 60)
    assert session.calls == 60 and session.restarts == 0
    reply = call(session, n=5000, seed=59, arrays=(big, big))
    expected = np.random.default_rng(59).choice(30_000, 5000, replace=False)
    np.testing.assert_array_equal(reply.value["first"]["items"][0]["array"], expected)
    assert session.calls == 60  # no new call


@pytest.mark.serial  # a wall-clock bound
def test_prefetch_stops_at_a_timeout_and_remembers_it_for_that_input_only(session_for):
    session = session_for(choice("if n == 2:\n        while True: pass"), call_timeout=1.5)
    calls = [("seeded_choice", dict(arrays=[TEN, TEN], seed=42, n=n))
             for n in (1, 2, 3)]
    session.prefetch(calls, until=time.monotonic() + 60)
    assert session.calls == 2 and session.restarts == 1
    assert call(session, n=1).value["first"]["count"] == 2
    with pytest.raises(WorkerLost) as lost:
        call(session, n=2)
    assert lost.value.reason == "timeout"
    assert call(session, n=3).value["first"]["count"] == 2  # asked now, of a fresh worker
    assert session.calls == 3


@pytest.mark.serial  # a wall-clock bound
def test_prefetch_drops_queued_calls_once_its_time_is_up(session_for):
    session = session_for(choice("import time; time.sleep(0.3)"))
    calls = [("seeded_choice", dict(arrays=[TEN, TEN], seed=seed, n=2, container="list"))
             for seed in range(20)]
    call(session)  # the worker is running: its start-up does not count against the time below
    started = time.monotonic()
    session.prefetch(calls, until=started + 1.0)
    assert time.monotonic() - started < 3 and 3 <= session.calls < 21
    assert session.restarts == 0


def test_os_exit_is_reported_as_a_dead_worker_with_its_exit_code(session_for):
    session = session_for(choice("print('bye')\n    os._exit(3)"))
    with pytest.raises(WorkerLost) as lost:
        call(session)
    assert lost.value.reason == "died"
    assert "exited with code 3" in lost.value.detail and "bye" in lost.value.detail


def test_prints_and_raw_writes_do_not_break_the_protocol(session_for):
    body = ('print(\'{"id": 1, "ok": 0}\')\n    sys.stderr.write("noise\\n")\n'
            '    os.write(1, b\'{"id": 2}\\n\')\n    print("x" * 100000)')
    session = session_for(choice(body))
    reply = call(session, n=3)
    expected = np.random.default_rng(42).choice(10, 3, replace=False)
    np.testing.assert_array_equal(reply.value["first"]["items"][0]["array"], expected)
    assert call(session, n=4).value["first"]["count"] == 2
    assert session.calls == 2
    call(session, n=3)  # answered from memory
    assert session.calls == 2


def test_failing_top_level_statements_are_reported_and_the_rest_still_loads(session_for):
    session = session_for(choice() + "BROKEN = 1 / 0\n", names=("parallel_seeded_choice", "BROKEN"))
    assert call(session).error is None
    [failure] = session.load_errors
    assert failure.cell_id == "c0" and failure.error.type == "ZeroDivisionError"


@pytest.mark.serial  # a wall-clock bound
def test_a_program_that_hangs_while_loading_loses_only_its_session(session_for):
    source = choice() + "def forever():\n    while True: pass\nSTUCK = forever()\n"
    session = session_for(source, names=("parallel_seeded_choice", "STUCK"), load_timeout=1.5)
    for _ in range(2):
        with pytest.raises(WorkerLost) as lost:
            call(session)
        assert "loading your definitions did not finish in time" in lost.value.detail
    assert call(session_for(choice())).error is None


def test_fork_server_gives_every_check_a_fresh_process(run_dirs, session_for):
    host = ForkServerHost(SITE_DIR, LIMITS, run_dirs, ("numpy",), startup_timeout=60)
    try:
        dirty = session_for("import numpy as np\nimport os\nnp.MARK = 'dirty'\nPID = os.getpid()\n"
                            "PGID = os.getpgid(0)\n", names=("np", "PID", "PGID"), host=host)
        inside = dirty.call("value", name="PID").value["int"]
        # its own PID namespace (it is process 2 there, after the namespace's init, which leads
        # its process group), or without one its own process group
        expected = (2, 1) if isolation_status()["pid_namespace"] else (inside, inside)
        assert (inside, dirty.call("value", name="PGID").value["int"]) == expected
        pid = dirty._worker.pid  # as the grader sees it
        clean = session_for("import numpy as np\nMARK = getattr(np, 'MARK', 'clean')\n",
                            names=("MARK",), host=host)
        assert clean.call("value", name="MARK").value["repr"] == "'clean'"
        dirty.close()
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and alive(pid):
            time.sleep(0.05)
        assert not alive(pid)
    finally:
        host.close()


def test_fork_server_that_cannot_import_its_preload_falls_back_to_fresh_workers(run_dirs,
                                                                                 session_for):
    host = ForkServerHost(SITE_DIR, LIMITS, run_dirs, ("no_such_module_here",),
                          startup_timeout=60, fallback=FreshHost(SITE_DIR, LIMITS))
    try:
        session = session_for(choice(), host=host, preload=("numpy",))
        assert call(session).error is None
        assert "no_such_module_here" in host.failure
    finally:
        host.close()
    bare = ForkServerHost(SITE_DIR, LIMITS, run_dirs, ("no_such_module_here",), startup_timeout=60)
    with pytest.raises(HarnessError):
        call(session_for(choice(), host=bare, preload=("numpy",)))
    bare.close()


@pytest.mark.serial  # a wall-clock bound
@pytest.mark.parametrize("waits_for_a_cpu", [True, False])
def test_a_timeout_stretches_only_while_the_worker_waits_for_a_cpu(monkeypatch, waits_for_a_cpu):
    """StarvationClock: a worker starved by a busy machine gets quarters more, up to
    LOAD_ALLOWANCE times its timeout; one that is stuck or sleeping is stopped on time."""
    from grader.sandbox import clock as module

    waited = iter(range(0, 10**12, 10**9 if waits_for_a_cpu else 1))  # ns on a run queue
    monkeypatch.setattr(module, "run_queue_ns", lambda pgid: next(waited))
    clock = module.StarvationClock(pgid=1, timeout=0.5)
    began = time.monotonic()
    while (left := clock.remaining()) > 0:
        time.sleep(left)
    took = time.monotonic() - began
    if waits_for_a_cpu:  # stretched to its end (a sleep may overshoot on a busy machine)
        assert 0.5 * LOAD_ALLOWANCE <= took < 0.5 * LOAD_ALLOWANCE + 1.5
    else:  # not stretched at all: far from even half the allowance
        assert 0.5 <= took < 0.5 * LOAD_ALLOWANCE / 2
