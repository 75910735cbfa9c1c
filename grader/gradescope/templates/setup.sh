#!/usr/bin/env bash
# Gradescope runs this ONCE, as root and with internet, when it builds the autograder's image
# (Ubuntu), in the folder the bundle was unpacked into (/autograder/source). Written by
# `python -m grader gradescope-bundle`; docs/lms.md, "Gradescope", says why each step is here.
#
# 1. Python @@PYTHON@@ (the course stack's; Gradescope's Ubuntu has another) from the deadsnakes
#    PPA, unless the image already has it;
# 2. a virtualenv at @@VENV@@ with the pinned course stack (requirements.txt), torch and
#    torchvision as CPU wheels first (Gradescope has no GPU; the CUDA build is gigabytes more);
# 3. the canary at build time: the grader grades the reference here and must give full marks,
#    so a broken image fails now, not on every student's submission.
set -euo pipefail

SOURCE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
VENV="${AUTOGRADER_VENV:-@@VENV@@}"
PYTHON="python@@PYTHON@@"
export DEBIAN_FRONTEND=noninteractive PIP_DISABLE_PIP_VERSION_CHECK=1

echo "== system packages: OpenCV's libraries (imgaug imports cv2)"
apt-get update
GLIB=libglib2.0-0  # renamed libglib2.0-0t64 from Ubuntu 24.04 on
if apt-cache show libglib2.0-0t64 >/dev/null 2>&1; then GLIB=libglib2.0-0t64; fi
apt-get install -y --no-install-recommends ca-certificates libgl1 "$GLIB"

if ! command -v "$PYTHON" >/dev/null 2>&1; then
    echo "== $PYTHON from the deadsnakes PPA"
    apt-get install -y --no-install-recommends software-properties-common gpg-agent
    add-apt-repository -y ppa:deadsnakes/ppa
    apt-get update
    apt-get install -y --no-install-recommends "$PYTHON" "$PYTHON-venv" "$PYTHON-dev"
fi

echo "== the course stack into $VENV"
"$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install --upgrade pip
"$VENV/bin/python" -m pip install --index-url https://download.pytorch.org/whl/cpu @@TORCH@@ \
    || echo "(no CPU wheels of @@TORCH@@: requirements.txt installs PyPI's)"
"$VENV/bin/python" -m pip install -r "$SOURCE/requirements.txt"
"$VENV/bin/python" -m pip check

echo "== the canary: the reference must score full marks in this image"
cd "$SOURCE"
PYTHONPATH="$SOURCE" "$VENV/bin/python" -m grader check "$SOURCE/@@REFERENCE@@"
echo "== the autograder is ready"
