"""Run notebook cells (already plain Python) top to bottom in one namespace, like a kernel would.

Client B of the federated round is the reference notebook; it needs no Jupyter kernel, only the
cells in order with the notebook's "keep going after an error" behaviour. Run as a script
(started by `grader.federated.round`), importing nothing from `grader`:

    python run_cells.py CELLS_JSON        CELLS_JSON = [{"id": "...", "source": "..."}, ...]

Each failing cell prints one `[grader] cell <id> failed: <type>: <message>` line and its
traceback to stderr; the last cell (`fl.train()`) normally ends the process through Plato's
`os._exit(0)` when the aggregator disconnects it.
"""
import json
import linecache
import os
import sys
import time
import traceback

STARTED = time.monotonic()

HERE = os.path.dirname(os.path.abspath(__file__))


def main(path):
    with open(path, encoding="utf-8") as handle:
        cells = json.load(handle)
    namespace = {"__name__": "__main__", "__builtins__": __builtins__}
    for cell in cells:
        filename = f"<cell {cell['id']}>"
        source = cell["source"]
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
        print(f"[grader] {time.monotonic() - STARTED:.1f}s running cell {cell['id']}", file=sys.stderr,
              flush=True)
        try:
            exec(compile(source, filename, "exec"), namespace)  # noqa: S102 - the reference notebook
        except BaseException as exc:  # noqa: BLE001 - a notebook goes on after a failing cell
            if isinstance(exc, SystemExit):
                raise
            print(f"[grader] cell {cell['id']} failed: {type(exc).__name__}: {exc}", file=sys.stderr)
            traceback.print_exc()
            sys.stderr.flush()
    print("[grader] all cells ran", file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.path[:] = [p for p in sys.path if p and os.path.abspath(p) != HERE]
    main(sys.argv[1])
