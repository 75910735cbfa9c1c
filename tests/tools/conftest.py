"""The tools' tests import the scripts of tools/ (not a package) by name."""
from __future__ import annotations

import sys

from tests.helpers import ROOT

sys.path.insert(0, str(ROOT / "tools"))
