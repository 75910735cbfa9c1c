"""Grader instrumentation for client A (the submission's kernel) in the federated round.

This folder is put first on client A's PYTHONPATH, so Python imports this module at start-up
(`site` imports `sitecustomize`). It only observes, and never raises into student code. It appends
JSON lines to the file named by env `GRADER_FL_HOOK_LOG`:

    {"event": "optimizer", "t", "pid", "type": "SGD", "lrs": [0.01]}
        each time a torch optimizer is built (the learning rate the trainer really used);
    {"event": "handler_error", "t", "pid", "where": "Task exception was never retrieved ...",
     "error": "AssertionError: ..."}
        an exception escaped a socket.io event handler (an asyncio task): Plato's client then
        waits forever instead of failing, so the grader ends the round early with this reason.

torch is not imported here: a meta-path finder patches `torch.optim.optimizer` when student
code imports it.
"""
import json
import os
import sys
import time

_LOG = os.environ.get("GRADER_FL_HOOK_LOG")
_TARGET = "torch.optim.optimizer"


def _append(record):
    try:
        record.setdefault("t", time.time())
        record.setdefault("pid", os.getpid())
        line = json.dumps(record, default=str)[:4000] + "\n"
        fd = os.open(_LOG, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, line.encode("utf-8", "replace"))
        finally:
            os.close(fd)
    except Exception:  # noqa: BLE001 - never disturb the student's process
        pass


def _lr_of(group):
    try:
        return float(group.get("lr"))
    except Exception:  # noqa: BLE001
        return None


def _patch_optimizer(module):
    optimizer = getattr(module, "Optimizer", None)
    if optimizer is None or getattr(optimizer, "_grader_patched", False):
        return
    original = optimizer.__init__

    def __init__(self, *args, **kwargs):
        original(self, *args, **kwargs)
        try:
            _append({"event": "optimizer", "type": type(self).__name__,
                     "lrs": [_lr_of(g) for g in getattr(self, "param_groups", [])]})
        except Exception:  # noqa: BLE001
            pass

    __init__.__wrapped__ = original
    optimizer.__init__ = __init__
    optimizer._grader_patched = True


class _PatchOnImport:
    """Meta-path finder: let the real finder load `torch.optim.optimizer`, then patch it."""

    def find_spec(self, name, path=None, target=None):
        if name != _TARGET:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(name, path, target)
            if spec is not None and spec.loader is not None and hasattr(spec.loader, "exec_module"):
                execute = spec.loader.exec_module

                def exec_module(module, _execute=execute):
                    _execute(module)
                    try:
                        _patch_optimizer(module)
                    except Exception:  # noqa: BLE001
                        pass

                spec.loader.exec_module = exec_module
                return spec
        return None


class _HandlerErrors:
    """A logging handler for socket.io's loggers, which report exceptions in event handlers."""

    level = 40  # logging.ERROR, without importing logging's handler machinery eagerly

    @classmethod
    def install(cls):
        import logging

        class Handler(logging.Handler):
            def emit(self, record):
                if record.levelno < logging.ERROR or not record.exc_info:
                    return
                exc = record.exc_info[1]
                try:
                    text = f"{type(exc).__name__}: {exc}"
                except Exception:  # noqa: BLE001
                    text = type(exc).__name__
                _append({"event": "handler_error", "where": str(record.msg)[:200],
                         "error": text[:1000]})

        # socket.io runs each event as an asyncio task: an exception escaping one is logged by
        # asyncio ("Task exception was never retrieved") or by engine.io ("handler error").
        for name in ("asyncio", "engineio.client", "socketio.client"):
            logging.getLogger(name).addHandler(Handler(logging.ERROR))


if _LOG:
    try:
        if _TARGET in sys.modules:
            _patch_optimizer(sys.modules[_TARGET])
        else:
            sys.meta_path.insert(0, _PatchOnImport())
        _HandlerErrors.install()
    except Exception:  # noqa: BLE001
        pass
