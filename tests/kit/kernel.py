"""One Jupyter kernel that runs many notebooks the way the kit's terminal mode does (its cells
prepared by `edge_ai_w5_selfcheck.terminal`, then the kit's check), resetting the user namespace
between notebooks: the imports of the course stack are paid once."""
from __future__ import annotations

import queue
import shutil
import tempfile
from pathlib import Path

import nbformat


class SharedKernel:
    def __init__(self, env: dict, cell_timeout: float = 120.0):
        self.cell_timeout = cell_timeout
        from edge_ai_w5_selfcheck.terminal import kernel_manager

        self._sockets = tempfile.mkdtemp(prefix="kit-kernel-")
        self.manager = kernel_manager(self._sockets, asynchronous=False)  # IPC, as the terminal mode's
        self.manager.start_kernel(env=env, cwd=tempfile.gettempdir())
        self.client = self.manager.client()
        self.client.start_channels()
        self.client.wait_for_ready(timeout=120)

    def run(self, source: str) -> str:
        """The cell's stream output; a cell past its timeout is interrupted."""
        out: list[str] = []

        def hook(msg):
            if msg["msg_type"] == "stream":
                out.append(msg["content"]["text"])

        try:
            self.client.execute_interactive(source, timeout=self.cell_timeout, output_hook=hook,
                                            allow_stdin=False)
        except TimeoutError:
            self.manager.interrupt_kernel()
            try:
                while True:
                    self.client.get_iopub_msg(timeout=5)
            except queue.Empty:
                pass
        return "".join(out)

    def check_notebook(self, path: Path, data_dir: str, ids=()) -> dict:
        from edge_ai_w5_selfcheck.terminal import (check_source, federated_names, parse,
                                                   prepared_source, standin_source)

        work = tempfile.mkdtemp(prefix="nb-", dir=self._sockets)  # removed with the kernel
        self.run(f"%reset -f\nimport os as _os\n_os.chdir({work!r})")
        self.run(standin_source())
        cells = [c for c in nbformat.read(str(path), as_version=4).cells if c.cell_type == "code"]
        names = federated_names(c.source for c in cells)
        for cell in cells:
            if cell.cell_type == "code":
                self.run(prepared_source(cell.source, data_dir, names))
        return parse(self.run(check_source(ids)))[1]

    def close(self) -> None:
        self.client.stop_channels()
        self.manager.shutdown_kernel(now=True)
        shutil.rmtree(self._sockets, ignore_errors=True)
