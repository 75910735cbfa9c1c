#!/usr/bin/env bash
# Everything that needs CUDA, in one run (target: under 8 minutes), with a summary at the end.
#
#   bash tools/gpu_check.sh            # from the repository root or anywhere
#
# Steps (docs/gpu.md): `cuda` (the grader and torch both find the device), then in parallel:
#   sandbox          tools/gpu_probe.py --expect-cuda: a sandboxed kernel and check worker, forked
#                    like `grade` forks them, compute a matrix product on the GPU
#   round-reference  a full-size federated round (25,000/10,000 images, the course's epochs, batch
#                    size and learning rate) of the reference: must pass (exit 0)
#   round-faulty     the same for fixtures/submissions/task3_hardcoded_lr.ipynb: must fail, on the
#                    learning rate only (exit 1, one part failed: learning_rate)
#   validate         `grader validate` on CUDA: the samples graded, the reference's round and the
#                    rounds of the fixtures about Tasks 3 and 4 as the manifest says; its rounds
#                    are small (GPU_CHECK_VALIDATE_SIZE=full for full-size ones: much longer)
# Exit status: 0 all passed, 1 a step failed, 3 no CUDA here (nothing was checked).
# Python: $GRADER_PYTHON, else the course stack .tox/course-stack (built first when missing, with
# `python3 tools/course_stack.py`, as tox does). Logs: $GPU_CHECK_OUT (default: a new temp folder).
set -u
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
OUT="${GPU_CHECK_OUT:-$(mktemp -d -t gpu-check-XXXXXX)}"
mkdir -p "$OUT"
STACK="$ROOT/.tox/course-stack"
PY="${GRADER_PYTHON:-$STACK/bin/python}"
if [ -z "${GRADER_PYTHON:-}" ]; then
    "${PYTHON:-python3}" tools/course_stack.py "$STACK" || { echo "gpu_check: FAIL: the course stack could not be built"; exit 1; }
fi
export PYTHONPATH="$ROOT" PYTHONDONTWRITEBYTECODE=1
ROUND_DEADLINE="${GPU_CHECK_ROUND_DEADLINE:-360}"   # seconds for one full-size round
STEP_LIMIT="${GPU_CHECK_STEP_LIMIT:-420}"           # seconds for any one step
VALIDATE_SIZE="${GPU_CHECK_VALIDATE_SIZE:-small}"
WORKERS="${GPU_CHECK_WORKERS:-4}"
BEGAN=$(date +%s)

# --- cuda: without a device nothing below means anything --------------------------------------
if ! "$PY" -c 'import sys; from grader.federated.settings import cuda_available; sys.exit(0 if cuda_available() else 1)'; then
    echo "gpu_check: NO CUDA on this machine (no /dev/nvidia* device and no GPU from nvidia-smi -L, or CUDA_VISIBLE_DEVICES hides them): nothing was checked."
    exit 3
fi
if ! "$PY" -c 'import sys, torch
ok = torch.cuda.is_available()
print(f"torch {torch.__version__}, CUDA {torch.version.cuda}, "
      + (f"{torch.cuda.device_count()} device(s): {torch.cuda.get_device_name(0)}" if ok else "no device usable"))
sys.exit(0 if ok else 1)' > "$OUT/cuda.log" 2>&1; then
    echo "gpu_check: FAIL: the grader sees a GPU but torch cannot use it:"; tail -5 "$OUT/cuda.log"
    exit 1
fi
echo "gpu_check: $(tail -1 "$OUT/cuda.log"); logs in $OUT"

# --- the parallel steps -------------------------------------------------------------------------
declare -A WANT PID STARTED
step() {  # step NAME EXPECTED_EXIT COMMAND...
    local name=$1 want=$2; shift 2
    WANT[$name]=$want
    STARTED[$name]=$(date +%s)
    ( timeout --kill-after=20 "$STEP_LIMIT" "$@" > "$OUT/$name.log" 2>&1; echo $? > "$OUT/$name.rc"; date +%s > "$OUT/$name.end" ) &
    PID[$name]=$!
}
step sandbox 0 "$PY" tools/gpu_probe.py --expect-cuda
step round-reference 0 "$PY" -m grader fl-round reference/exercise.ipynb --fl-round-size full --deadline "$ROUND_DEADLINE"
step round-faulty 1 "$PY" -m grader fl-round fixtures/submissions/task3_hardcoded_lr.ipynb --fl-round-size full --deadline "$ROUND_DEADLINE"
step validate 0 "$PY" -m grader validate --fl-round auto --fl-round-size "$VALIDATE_SIZE" --workers "$WORKERS"
ORDER="sandbox round-reference round-faulty validate"
for name in $ORDER; do wait "${PID[$name]}"; done

only_learning_rate_failed() {  # the fault fixture's round: its one mistake, nothing else
    [ "$(grep -c '^  FAIL ' "$1")" = 1 ] && grep -q '^  FAIL learning_rate' "$1"
}

# --- summary --------------------------------------------------------------------------------------
failed=0
echo
echo "gpu_check summary ($(( $(date +%s) - BEGAN )) s in all):"
for name in $ORDER; do
    rc=$(cat "$OUT/$name.rc" 2>/dev/null || echo "?")
    seconds=$(( $(cat "$OUT/$name.end" 2>/dev/null || date +%s) - STARTED[$name] ))
    if [ "$name" = round-faulty ] && [ "$rc" = 1 ] && ! only_learning_rate_failed "$OUT/$name.log"; then
        verdict="FAIL"; failed=1   # it failed, but not (only) for its mistake
    elif [ "$rc" = "${WANT[$name]}" ]; then verdict="ok  "
    elif [ "$rc" = 124 ] || [ "$rc" = 137 ]; then verdict="TIME"; failed=1
    else verdict="FAIL"; failed=1; fi
    printf '  %s %-16s exit %-3s (expected %s) %4d s\n' "$verdict" "$name" "$rc" "${WANT[$name]}" "$seconds"
    case $name in
        sandbox) grep -E '^\{|^(ok|FAIL):' "$OUT/$name.log" | sed 's/^/      /' ;;
        round-*) grep -E '^fl_round:|^  (ok  |FAIL) |^Timings:' "$OUT/$name.log" | sed 's/^/      /' ;;
        validate) grep -E '^FAIL|passed, [0-9]+ failed' "$OUT/$name.log" | sed 's/^/      /' ;;
    esac
done
if [ "$failed" = 1 ]; then
    echo "gpu_check: FAILED (logs in $OUT)"
    exit 1
fi
echo "gpu_check: all passed"
exit 0
