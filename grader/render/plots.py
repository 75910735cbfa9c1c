"""The class report's charts: matplotlib figures rendered off-screen to base64 PNG.

Figures are made with `matplotlib.figure.Figure` and the Agg canvas directly, never through
pyplot, so no global backend is switched and nothing is left open between calls. Each function
takes the numbers the summary already holds (plots draw them; they compute no verdicts) and
returns a `data:image/png;base64,...` URI ready for an <img src>.
"""
from __future__ import annotations

import base64
import io
from typing import Sequence

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

# The same status colours as the HTML pages (style.css).
COLOURS = {"passed": "#1a7f37", "failed": "#cf222e", "error": "#bc4c00", "skipped": "#afb8c1",
           "graded": "#0969da", "neutral": "#57606a"}
PHASE_COLOURS = ["#0969da", "#8250df", "#bf8700", "#1a7f37", "#cf222e", "#57606a"]
_DPI = 110
_RC = {"font.size": 9, "axes.titlesize": 10, "axes.labelsize": 9, "xtick.labelsize": 8,
       "ytick.labelsize": 8, "legend.fontsize": 8, "axes.edgecolor": "#8c959f",
       "axes.spines.top": False, "axes.spines.right": False}


def _figure(width: float, height: float) -> tuple[Figure, object]:
    fig = Figure(figsize=(width, height), dpi=_DPI, layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ax.set_axisbelow(True)
    ax.grid(axis="x" if width < height else "y", color="#d0d7de", linewidth=0.6)
    return fig, ax


def _png(fig: Figure) -> str:
    buffer = io.BytesIO()
    # No "Software" metadata: the same numbers give byte-identical PNGs.
    fig.savefig(buffer, format="png", dpi=_DPI, metadata={"Software": None}, facecolor="white")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _style(func):
    def wrapped(*args, **kwargs):
        import matplotlib

        with matplotlib.rc_context(_RC):
            return func(*args, **kwargs)
    wrapped.__name__, wrapped.__doc__ = func.__name__, func.__doc__
    return wrapped


@_style
def score_histogram(edges: Sequence[float], graded: Sequence[int], errored: Sequence[int],
                    max_score: float) -> str:
    """Submissions per score bin; submissions that could not be graded stacked on top."""
    fig, ax = _figure(6.4, 2.8)
    lefts = list(edges[:-1])
    widths = [b - a for a, b in zip(edges[:-1], edges[1:])]
    ax.bar(lefts, graded, width=widths, align="edge", color=COLOURS["graded"], edgecolor="white",
           linewidth=0.8, label="graded")
    if any(errored):
        ax.bar(lefts, errored, width=widths, bottom=graded, align="edge", color=COLOURS["error"],
               edgecolor="white", linewidth=0.8, label="could not be graded")
        ax.legend(frameon=False, loc="upper left")
    ax.set_xlabel(f"score (points out of {max_score:g})")
    ax.set_ylabel("submissions")
    ax.set_xlim(edges[0], edges[-1])
    if edges[-1] - edges[0] <= 16:
        ax.set_xticks(range(int(edges[0] + 0.5), int(edges[-1] + 0.5)))
    ax.yaxis.get_major_locator().set_params(integer=True)
    return _png(fig)


@_style
def check_pass_rates(checks: Sequence[dict]) -> str:
    """One horizontal bar per check: shares of passed, failed, error and skipped submissions."""
    height = 0.9 + 0.38 * max(1, len(checks))
    fig, ax = _figure(6.4, height)
    names = [c["id"] for c in checks]
    rows = range(len(checks))[::-1]  # first check on top
    left = [0.0] * len(checks)
    for status in ("passed", "failed", "error", "skipped"):
        shares = [(c[status] / c["submissions"] * 100) if c["submissions"] else 0 for c in checks]
        ax.barh(list(rows), shares, left=left, color=COLOURS[status], height=0.62, label=status)
        left = [a + b for a, b in zip(left, shares)]
    for row, check in zip(rows, checks):
        rate = check["pass_rate"]
        ax.text(101.5, row, "n/a" if rate is None else f"{rate * 100:.0f}%", va="center", fontsize=8,
                color="#24292f")
    ax.set_yticks(list(rows), [_short(name) for name in names])
    ax.set_ylim(-0.6, len(checks) - 0.4)
    ax.set_xlim(0, 100)
    ax.set_xlabel("share of submissions (%); pass rate on the right")
    ax.legend(ncols=4, frameon=False, loc="lower left", bbox_to_anchor=(0, 1.0), borderaxespad=0.2)
    ax.tick_params(axis="y", length=0)
    return _png(fig)


@_style
def property_pass_rates(checks: Sequence[dict]) -> str:
    """One horizontal bar per property of each check (`checks[i]["properties"]`): the share of
    graded submissions whose check ran and in which the property held; each check's properties
    under a row with its name, in the check's colour."""
    rows: list[tuple[str, dict | None]] = []
    for check in checks:
        if check["properties"]:
            rows.append((check["id"], None))
            rows.extend((check["id"], prop) for prop in check["properties"])
    height = 1.0 + 0.26 * max(1, len(rows))
    fig, ax = _figure(4.4, height)  # narrow: it sits beside the failure tables
    positions = list(range(len(rows)))[::-1]  # first row on top
    colours: dict[str, str] = {}
    for position, (check_id, prop) in zip(positions, rows):
        colour = colours.setdefault(check_id, PHASE_COLOURS[len(colours) % len(PHASE_COLOURS)])
        if prop is None:
            continue
        rate = prop["pass_rate"] * 100
        ax.barh(position, rate, height=0.7, color=colour)
        ax.text(101.5, position, f"{rate:.0f}%", va="center", fontsize=7.5, color="#24292f")
    ax.set_yticks(positions, [_short(check_id, 36) if prop is None else _short(prop["name"])
                              for check_id, prop in rows])
    for label, (check_id, prop) in zip(ax.get_yticklabels(), rows):
        if prop is None:
            label.set_fontweight("bold")
            label.set_color(colours[check_id])
    ax.set_ylim(-0.6, len(rows) - 0.4)
    ax.set_xlim(0, 100)
    ax.set_xlabel("held in (% of submissions)")
    ax.tick_params(axis="y", length=0, labelsize=7.5)
    return _png(fig)


@_style
def grading_times(rows: Sequence[dict], phases: Sequence[str], total: int) -> str:
    """Seconds per submission, split by phase; `rows` are already the slowest, slowest first."""
    height = 1.0 + 0.22 * max(1, len(rows))
    fig, ax = _figure(6.4, height)
    positions = list(range(len(rows)))[::-1]
    left = [0.0] * len(rows)
    for index, phase in enumerate(phases):
        values = [r["phases"].get(phase, 0.0) for r in rows]
        ax.barh(positions, values, left=left, height=0.7, label=phase,
                color=PHASE_COLOURS[index % len(PHASE_COLOURS)])
        left = [a + b for a, b in zip(left, values)]
    ax.set_yticks(positions, [_short(r["submission"]) for r in rows])
    ax.set_ylim(-0.6, len(rows) - 0.4)
    ax.tick_params(axis="y", length=0)
    ax.set_xlabel("seconds")
    title = "all submissions" if len(rows) == total else f"the {len(rows)} slowest of {total} submissions"
    ax.set_title(f"Grading time, {title}", loc="left")
    if phases:
        ax.legend(ncols=len(phases), frameon=False, loc="lower right", bbox_to_anchor=(1.0, 1.0))
    return _png(fig)


@_style
def time_histogram(seconds: Sequence[float]) -> str:
    """For large classes: how many submissions took how long."""
    fig, ax = _figure(6.4, 2.6)
    ax.hist(seconds, bins=min(30, max(5, len(seconds) // 4)), color=COLOURS["graded"], edgecolor="white")
    ax.set_xlabel("seconds per submission")
    ax.set_ylabel("submissions")
    return _png(fig)


def _short(name: str, limit: int = 28) -> str:
    """A tick label: cut, and with `$` escaped (matplotlib would read it as mathtext)."""
    name = name if len(name) <= limit else name[: limit - 1] + "\u2026"
    return name.replace("$", r"\$")
