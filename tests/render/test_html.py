"""HTML feedback pages, the class report and summary.json, from hand-built results.

The class is tests/render/sample.py (a partly failing submission with a counterexample, hostile
HTML, an XSS attempt as a name, one that could not be graded, one that timed out), rendered once
per module by the `pages` fixture (conftest.py).
"""
from __future__ import annotations

import base64
import io
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from nbformat.v4 import new_output

from grader.course import EXAMPLE_SEEDS
from grader.render import html as render_html
from grader.render.notebook_html import MAX_IMAGE_CHARS, Note, clean_html, notebook_html, prepare
from grader.render.text import clean_text, failure_pattern, feedback_filename, feedback_href, first_sentence
from grader.results.model import GradingRun

from tests.render.sample import PIXEL, XSS_NAME, executed_notebook, sample_run


def read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


class Structure(HTMLParser):
    """Checks that tags nest and close; collects tags with their attributes."""

    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.problems: list[str] = []
        self.tags: list[tuple[str, dict[str, str]]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, {k: v or "" for k, v in attrs}))
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.tags.append((tag, {k: v or "" for k, v in attrs}))

    def handle_endtag(self, tag):
        if tag in self.VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.problems.append(f"</{tag}> closes <{self.stack[-1] if self.stack else None}> "
                                 f"at line {self.getpos()[0]}")
            if tag in self.stack:
                while self.stack.pop() != tag:
                    pass
        else:
            self.stack.pop()


def parse(text: str) -> Structure:
    parser = Structure()
    parser.feed(text)
    parser.close()
    assert not parser.problems, parser.problems[:5]
    assert not parser.stack, f"unclosed: {parser.stack}"
    assert [t for t, _ in parser.tags].count("html") == 1
    assert [t for t, _ in parser.tags].count("body") == 1
    return parser


def assert_self_contained(text: str) -> Structure:
    """No scripts, no frames, nothing fetched: only data: images and in-page or <a> links."""
    page = parse(text)
    tags = {t for t, _ in page.tags}
    assert not tags & {"script", "iframe", "object", "embed", "link", "base", "frame", "form", "svg"}, tags
    for tag, attrs in page.tags:
        for name, value in attrs.items():
            assert not name.startswith("on"), (tag, name, value)
            if name in ("src", "href", "srcset", "poster", "action", "data", "background"):
                value = value.strip().lower()
                assert not value.startswith("javascript:"), (tag, name, value)
                if tag == "a" and name == "href":
                    continue  # a link the reader may follow, not a fetch
                assert not re.match(r"(https?:)?//", value), (tag, name, value)
                assert value.startswith("#") or value.startswith("data:image/") or tag == "a", (tag, name, value)
    assert not re.search(r"url\(\s*['\"]?(https?:)?//", text), "CSS fetches a remote resource"
    assert "@import" not in text
    csp = [a for t, a in page.tags if t == "meta" and a.get("http-equiv", "").lower() == "content-security-policy"]
    assert csp and "default-src 'none'" in csp[0]["content"] and "script-src" not in csp[0]["content"]
    assert any(t == "meta" and a.get("name") == "viewport" for t, a in page.tags)
    return page


# --- the files -------------------------------------------------------------------------------

def test_write_reports_writes_every_file_and_no_temporary_ones(pages):
    names = sorted(p.name for p in (pages / "feedback").iterdir())
    assert names == sorted(["alice.html", "bob.html", "carol.html", feedback_filename(XSS_NAME)])
    assert (pages / "report.html").is_file() and (pages / "summary.json").is_file()
    assert not list(pages.rglob("*.tmp"))


def test_feedback_filename_cannot_leave_the_folder():
    assert feedback_filename("alice") == "alice.html"
    assert "/" not in feedback_filename(XSS_NAME)
    assert feedback_filename("../../etc/passwd") == "_._.._etc_passwd.html"
    assert feedback_filename(".hidden") == "_hidden.html"
    assert feedback_href("a b#c") == "feedback/a%20b%23c.html"


# --- a feedback page ------------------------------------------------------------------------------

def test_feedback_page_is_well_formed_and_self_contained(pages):
    for page in (pages / "feedback").iterdir():
        assert_self_contained(read(page))


def test_feedback_page_has_score_check_table_and_counterexample(pages):
    text = read(pages / "feedback" / "alice.html")
    assert "<title>Feedback: alice (2/6)</title>" in text
    table = text[text.index('id="gr-checks"'):text.index('id="gr-fix"')]
    for check_id in ("task1_seeded_choice", "task1_random_seed", "task2_partition", "notebook_runs", "fl_round"):
        assert check_id in table
    assert table.count('class="gr-pill gr-pill-failed"') == 2 and "gr-pill-error" in table
    fix = text[text.index('id="gr-fix"'):text.index('id="gr-notebook"')]
    assert 'id="gr-check-task1_seeded_choice"' in fix and 'id="gr-check-task1_random_seed"' not in fix
    assert "parallel_seeded_choice returned 2 arrays for 3 inputs. Return one array per input." in fix
    assert "array_list=[array([0]), array([1]), array([2])], seed=0, n=1" in fix
    assert "3 arrays &lt;of length 1&gt;" in fix  # escaped, not a tag
    assert "one array per input" in fix and "2 for 3" in fix


def test_failing_check_links_to_the_cell_that_defines_it(pages):
    text = read(pages / "feedback" / "alice.html")
    assert 'href="#cell-id=task1-def"' in text
    assert re.search(r'<div id="cell-id=task1-def" class="[^"]*celltag_gr-check', text)
    # A cell the notebook does not have gets no dead link, but a sentence.
    assert 'href="#cell-id=no-such-cell"' not in text
    assert "(no-such-cell) is not in the executed notebook" in text


def test_notebook_marks_failing_cells_and_folds_long_outputs(pages):
    text = read(pages / "feedback" / "alice.html")
    assert re.search(r'<div id="cell-id=task1-test" class="[^"]*celltag_gr-error', text)
    assert "This cell raised AssertionError" in text
    details = text[text.index('<details class="gr-fold">'):]
    assert "500 lines" in details[:300] and "499" in details[:details.index("</details>")]
    # The traceback is shown (ANSI colours become classes), not folded.
    assert '<span class="ansi-red-fg">AssertionError</span>: expected 3 arrays' in text


def test_student_html_is_sanitized(pages):
    text = read(pages / "feedback" / "alice.html")
    notebook = text[text.index('<div class="gr-notebook">'):]
    assert "<b>bold</b>" in notebook  # harmless markup survives
    for bad in ("<script", "<iframe", "onerror", "onclick", "javascript:", "http://example.com/x.png",
                "https://example.com/tracker.png", "x&quot; onerror", "gr-hero-passed", "color:red", "alert("):
        assert bad not in notebook, bad
    assert f"data:image/png;base64,{PIXEL}" in text
    assert '<a href="https://example.com/">course page</a>' in text


def test_unreadable_executed_notebook_still_gets_a_page(pages):
    text = read(pages / "feedback" / "carol.html")
    assert "The executed notebook could not be read" in text
    assert "timed out after 120 s" in text


def test_submission_that_could_not_be_graded_gets_a_page_with_the_error(pages):
    text = read(pages / "feedback" / "bob.html")
    assert "This notebook could not be graded." in text
    assert "bob.ipynb is not valid JSON (line 1, column 1)." in text
    assert "gr-hero-error" in text and "Nothing was run." in text
    assert 'id="gr-fix"' not in text  # the error is said once, not once per check


def test_script_in_a_submission_name_is_escaped_everywhere(pages):
    escaped = "&lt;script&gt;alert(&#39;name&#39;)&lt;/script&gt;"
    page = read(pages / "feedback" / feedback_filename(XSS_NAME))
    report = read(pages / "report.html")
    for text in (page, report):
        assert "<script" not in text
        assert escaped in text
    assert "&lt;script&gt;alert(&#39;ce&#39;)&lt;/script&gt;" in page  # the counterexample too
    assert "&lt;b&gt;not bold&lt;/b&gt;" in page


def test_missing_executed_notebook_is_said(tmp_path):
    sub = sample_run().submissions[0]
    text = render_html.feedback_page(sub, None)
    assert "The executed notebook was not kept" in text
    assert 'href="#cell-id=' not in text


def test_a_rendering_bug_gives_a_fallback_page(monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("template exploded")

    monkeypatch.setattr(render_html, "render_feedback", broken)
    text = render_html.feedback_page(sample_run().submissions[1])
    assert_self_contained(text)
    assert "RuntimeError: template exploded" in text and "&lt;script&gt;" in text and "<script" not in text


# --- the class report and summary.json -----------------------------------------------------------

def test_report_is_well_formed_and_self_contained(pages):
    page = assert_self_contained(read(pages / "report.html"))
    from PIL import Image

    images = [a["src"] for t, a in page.tags if t == "img"]
    assert len(images) == 4  # score histogram, pass rates per check and per property, grading time
    for src in images:
        data = base64.b64decode(src.split(",", 1)[1])
        with Image.open(io.BytesIO(data)) as image:
            assert image.format == "PNG" and image.width > 300


def test_report_shows_pass_rates_common_failures_and_problems(pages):
    text = read(pages / "report.html")
    rates = text[text.index('id="gr-pass-rates"'):text.index('id="gr-failures"')]
    assert "25%" in rates  # task1_seeded_choice: 1 of 4 passed
    failures = text[text.index('id="gr-failures"'):text.index('id="gr-seeds"')]
    assert "one array per input" in failures and "2 for 3" in failures  # the property, its sentence
    assert "parallel_seeded_choice returned 4 arrays for 5 inputs." in failures  # no properties
    assert "bob.ipynb" not in failures  # an ungradable notebook is a problem, not a common failure
    problems = text[text.index('id="gr-problems"'):text.index('id="gr-notebook-views"')]
    assert 'href="feedback/bob.html"' in problems and "could not be graded" in problems
    assert 'href="feedback/carol.html"' in problems and "time limit" in problems
    assert 'href="feedback/alice.html"' not in problems
    views = text[text.index('id="gr-notebook-views"'):text.index('id="gr-timing"')]
    assert '1 page left something out: <a href="feedback/alice.html">alice</a> (2)' in views
    assert '1 page could not show the notebook at all</strong>' in views and "feedback/carol.html" in views


def test_summary_json_numbers(pages):
    summary = json.loads(read(pages / "summary.json"))
    assert summary["schema_version"] == 4
    assert (summary["submissions"], summary["graded"], summary["errored"], summary["timed_out"]) == (4, 3, 1, 1)
    score = summary["score"]
    assert score["max_score"] == 6.0
    assert score["mean"] == pytest.approx((2 + 4 + 0 + 5) / 4)
    assert score["median"] == 3.0 and score["min"] == 0 and score["max"] == 5
    hist = score["histogram"]
    assert sum(hist["graded"]) == 3 and sum(hist["errored"]) == 1
    assert hist["bin_edges"][0] == -0.5 and hist["bin_edges"][-1] == 6.5
    checks = {c["id"]: c for c in summary["checks"]}
    assert list(checks) == ["task1_seeded_choice", "task1_random_seed", "task2_partition", "notebook_runs",
                            "fl_round"]
    first = checks["task1_seeded_choice"]
    assert (first["passed"], first["failed"], first["error"], first["skipped"]) == (1, 2, 1, 0)
    assert first["pass_rate"] == 0.25 and first["mean_score"] == pytest.approx(0.75)
    # alice failed a property; the XSS row's check has no properties: grouped by its sentence
    assert first["failure_groups"] == [
        {"property": "one array per input", "kind": "property", "count": 1, "statuses": {"failed": 1},
         "sentences": [{"pattern": "N for N", "message": "2 for 3", "variants": 1, "count": 1,
                        "submissions": ["alice"]}],
         "more_sentences": 0, "submissions": ["alice"]},
        {"property": "the check as a whole", "kind": "check", "count": 1, "statuses": {"failed": 1},
         "sentences": [{"pattern": "parallel_seeded_choice returned N arrays for N inputs.",
                        "message": "parallel_seeded_choice returned 4 arrays for 5 inputs.",
                        "variants": 1, "count": 1, "submissions": [XSS_NAME]}],
         "more_sentences": 0, "submissions": [XSS_NAME]}]
    assert first["properties"] == [
        {"name": "one array per input", "held": 0, "failed": 1, "pass_rate": 0.0},
        {"name": "same order in every array", "held": 1, "failed": 0, "pass_rate": 1.0}]
    assert checks["fl_round"]["pass_rate"] is None and checks["fl_round"]["skipped"] == 3
    assert {p["submission"]: p["kind"] for p in summary["problems"]} == {"bob": "error", "carol": "timeout"}
    assert summary["seeds"] == {"recorded": 3, "distinct": 2, "shared": [
        {"seed": 19891217, "count": 2, "submissions": [XSS_NAME, "alice"], "example": EXAMPLE_SEEDS[19891217]}],
        "examples": [{"seed": 19891217, "why": EXAMPLE_SEEDS[19891217], "count": 2,
                      "submissions": [XSS_NAME, "alice"]}]}
    assert summary["notebook_views"] == {"pages_read": 4, "partial": [{"submission": "alice", "lost": 2}],
                                         "none": ["carol"]}
    timings = summary["timings"]
    assert timings["phases"] == ["execute", "checks"]  # the notebook's own cells run within execute
    assert timings["per_phase"]["student_code"]["max"] == 9.0
    rows = {r["submission"]: r for r in timings["per_submission"]}
    assert rows["alice"]["seconds"] == 15.75 and rows["alice"]["not_passed"] == [
        "task1_seeded_choice", "task2_partition", "notebook_runs"]
    assert rows["bob"]["feedback"] == "feedback/bob.html"
    assert timings["per_phase"]["execute"]["max"] == 120.5


def test_report_and_summary_are_deterministic():
    run = sample_run()
    assert render_html.class_report(run) == render_html.class_report(GradingRun(list(reversed(run.submissions))))


def test_empty_run_still_renders(tmp_path):
    render_html.write_reports(GradingRun(), tmp_path)
    assert_self_contained(read(tmp_path / "report.html"))
    assert json.loads(read(tmp_path / "summary.json"))["submissions"] == 0


# --- helpers ---------------------------------------------------------------------------------

def test_clean_html_whitelist():
    assert clean_html("<h2 id='x'>T</h2><p>a <code>b</code></p>") == '<h2 id="x">T</h2><p>a <code>b</code></p>'
    assert clean_html("<script>alert(1)</script><style>p{}</style>ok") == "ok"
    assert clean_html("<img src='https://e.com/a.png' alt='a'>") == '<img alt="a">'
    assert clean_html(f"<img src='data:image/png;base64,{PIXEL}'>") == f'<img src="data:image/png;base64,{PIXEL}">'
    assert clean_html("<img src='data:image/svg+xml;base64,AAAA'>") == "<img>"
    assert clean_html("<a href='javascript:alert(1)'>x</a><a href='data:text/html,x'>y</a>") == "<a>x</a><a>y</a>"
    assert clean_html("<div class='output gr-pill-passed'>x</div>") == "<div>x</div>"
    assert clean_html("<h1 id='cell-id=task1-def'>x</h1>") == "<h1>x</h1>"
    assert clean_html("<table><tr><td colspan=2 onclick='x'>1</td></tr></table>") == \
        '<table><tbody><tr><td colspan="2">1</td></tr></tbody></table>'


def test_text_helpers():
    assert clean_text("\x1b[0;31mError\x1b[0m\r\nnext\x07") == "Error\nnext"
    assert first_sentence("The rate is 0.01. Divide by 10 every 20 epochs.") == "The rate is 0.01."
    sentence = "np.random.seed was called; use a Generator."
    assert first_sentence(sentence) == sentence
    assert first_sentence("one line\nsecond line") == "one line"
    assert failure_pattern("task1_seeded_choice returned 2 arrays for 3 inputs. More.") == \
        "task1_seeded_choice returned N arrays for N inputs."
    assert failure_pattern("RANDOM_SEED is '1999-01-01', expected -3.5e2") == "RANDOM_SEED is '…', expected N"


def test_cells_without_ids_get_index_anchors_and_huge_images_are_left_out():
    nb = executed_notebook()
    for cell in nb.cells:
        del cell["id"]
    nb.nbformat_minor = 4
    nb.cells[3].outputs = [new_output("display_data", data={"image/png": "A" * (MAX_IMAGE_CHARS + 4),
                                                            "text/plain": "<Figure>"})]
    prepared = prepare(nb, {"cell-1": [Note("check", "task1_seeded_choice failed", "#gr-check-x")]})
    assert prepared.anchors["cell-1"] == "cell-id=cell-1" and prepared.error_cells == 1
    fragment = notebook_html(prepared)
    assert re.search(r'<div id="cell-id=cell-1" class="[^"]*celltag_gr-check', fragment)
    assert "is left out of this page" in fragment and "AAAA" not in fragment
