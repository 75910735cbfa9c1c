"""A real browser opens the report and a feedback page from file:// (headless Chromium).

Each page is screenshotted; the PNG must show something (not one colour) and the browser must
log no console message at all: the pages have no scripts, so any console line is an error, a
blocked fetch (Content-Security-Policy) or an uncaught exception. A control page with an
uncaught error proves the console capture works with the installed Chromium.

Needs `chromium` (Debian: `apt-get install -y chromium`); skipped when it is not installed.
Nothing leaves the machine: the pages fetch nothing (their CSP forbids it), background
networking is off and every host name resolves to nothing.
"""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

BROWSER = next((shutil.which(name) for name in ("chromium", "chromium-browser", "google-chrome")
                if shutil.which(name)), None)
pytestmark = [pytest.mark.slow,  # a Chromium start per page
              pytest.mark.skipif(BROWSER is None,
                                 reason="headless Chromium not installed (apt-get install -y chromium)")]


def screenshot(page: Path, png: Path, profile: Path, size: str = "1000,1400") -> list[str]:
    """Load `page` in a fresh headless Chromium, save a screenshot; return its console lines."""
    profile.mkdir(parents=True, exist_ok=True)
    command = [
        BROWSER, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--disable-extensions", "--disable-default-apps", "--no-default-browser-check", "--mute-audio",
        "--hide-scrollbars", "--host-resolver-rules=MAP * ~NOTFOUND", f"--user-data-dir={profile}",
        "--enable-logging=stderr", "--v=0", f"--window-size={size}", f"--screenshot={png}",
        page.resolve().as_uri(),
    ]
    env = {k: v for k, v in os.environ.items() if k not in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY")}
    result = subprocess.run(command, capture_output=True, text=True, timeout=90, env=env, cwd=profile)
    assert png.is_file(), f"no screenshot; chromium said:\n{result.stderr[-3000:]}"
    return [line for line in result.stderr.splitlines()
            if ":CONSOLE" in line or "Uncaught" in line or "Content Security Policy" in line]


def assert_not_blank(png: Path) -> None:
    from PIL import Image

    with Image.open(png) as image:
        colours = image.convert("RGB").getcolors(maxcolors=1 << 16)
    assert colours is None or len(colours) > 50, f"{png.name} looks blank ({len(colours)} colours)"


def test_console_capture_works(tmp_path):
    page = tmp_path / "broken.html"
    page.write_text("<!DOCTYPE html><title>x</title><p>control</p><script>throw new Error('boom')</script>",
                    encoding="utf-8")
    console = screenshot(page, tmp_path / "broken.png", tmp_path / "profile", size="400,300")
    assert any("Uncaught" in line and "boom" in line for line in console), console


def test_report_renders_without_console_errors(pages, tmp_path):
    png = tmp_path / "report.png"
    console = screenshot(pages / "report.html", png, tmp_path / "profile")
    assert console == []
    assert_not_blank(png)


def test_feedback_page_renders_on_a_phone_without_console_errors(pages, tmp_path):
    # alice's notebook has a missing attachment and a broken image: placeholders, not a lost view
    assert 'class="gr-placeholder"' in (pages / "feedback" / "alice.html").read_text(encoding="utf-8")
    png = tmp_path / "feedback.png"
    console = screenshot(pages / "feedback" / "alice.html", png, tmp_path / "profile", size="390,1600")
    assert console == []
    assert_not_blank(png)
