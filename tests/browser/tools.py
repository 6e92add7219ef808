"""The outside tools: Debian's Chromium driven by Playwright, and the two judges of
every page, axe-core for accessibility and the Nu HTML Checker for valid HTML.
A missing tool fails the tests with the name of the script that installs it;
findings are turned into lines a person can act on."""

import json
import os
import re
import shutil
import subprocess
from contextlib import contextmanager
from pathlib import Path

import pytest
import segno
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import sync_playwright

HERE = Path(__file__).resolve().parent
VNU_JAR = HERE / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
INSTALL = "run .ci/browser-tools to install it"

CHROMIUM = "/usr/bin/chromium"
# Headless, as root, and silent: the machine's network is closed, and Chromium's
# own background traffic would only fail (or leak, where it is open).
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-default-apps",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
    "--metrics-recording-only",
]

AXE = Axe()
NODES_SHOWN = 5


@contextmanager
def chromium(camera: Path | None = None):
    """Debian's Chromium: Playwright's own browser download does not work here.
    `camera` is a Y4M video file the browser's camera shows instead of a real one."""
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} is missing: {INSTALL}", pytrace=False)
    flags = list(CHROMIUM_FLAGS)
    if camera is not None:
        flags += [
            "--use-fake-device-for-media-stream",
            "--use-fake-ui-for-media-stream",
            f"--use-file-for-fake-video-capture={camera}",
        ]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=flags)
        try:
            yield browser
        finally:
            browser.close()


def camera_film(path: Path, text: str, width: int = 640, height: int = 480) -> None:
    """A short Y4M film of `text` as a QR code on white, for the fake camera: what a
    steward's phone sees when an attendee holds up their ticket."""
    rows = [
        list(row) for row in segno.make(text, error="m", micro=False).matrix_iter(scale=8, border=4)
    ]
    top, left = (height - len(rows)) // 2, (width - len(rows[0])) // 2
    luma = bytearray([235]) * (width * height)
    for y, row in enumerate(rows):
        for x, dark in enumerate(row):
            if dark:
                luma[(top + y) * width + left + x] = 16
    chroma = bytes([128]) * (width * height // 4)
    frame = b"FRAME\n" + bytes(luma) + chroma + chroma
    header = f"YUV4MPEG2 W{width} H{height} F10:1 Ip A1:1 C420jpeg\n".encode()
    path.write_bytes(header + frame * 10)


def axe_violations(page, url: str) -> list[str]:
    """Every axe violation on the page, whatever its impact: one line per rule, then
    the selectors of the elements at fault."""
    lines = []
    for violation in AXE.run(page).response["violations"]:
        lines.append(f"axe {violation['id']} ({violation['impact']}) on {url}: {violation['help']}")
        nodes = violation["nodes"]
        for node in nodes[:NODES_SHOWN]:
            lines.append("    " + " ".join(str(t) for t in node["target"]))
        if len(nodes) > NODES_SHOWN:
            lines.append(f"    ... and {len(nodes) - NODES_SHOWN} more")
    return lines


def vnu_command() -> list[str]:
    """Fails, naming the install script, when Java or the checker is missing."""
    java = shutil.which("java")
    assert java, f"no Java runtime for the Nu HTML Checker: {INSTALL}"
    assert VNU_JAR.is_file(), f"the Nu HTML Checker is missing ({VNU_JAR}): {INSTALL}"
    return [java, "-jar", str(VNU_JAR), "--format", "json", "--errors-only", "--stdout"]


def vnu_errors(pages: list[tuple[str, str]], folder: Path) -> list[str]:
    """Checks every page in one run of the checker: [(url, html)] -> error lines."""
    names = {}
    for n, (url, html) in enumerate(pages, start=1):
        path = folder / f"page-{n:03d}-{re.sub(r'[^A-Za-z0-9]+', '-', url)[-60:]}.html"
        path.write_text(html, encoding="utf-8")
        names[path.name] = url
    result = subprocess.run(
        [*vnu_command(), *sorted(str(folder / name) for name in names)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    try:
        messages = json.loads(result.stdout)["messages"]
    except (ValueError, KeyError) as exc:
        raise AssertionError(
            f"the Nu HTML Checker failed:\n{result.stdout}{result.stderr}"
        ) from exc
    lines = []
    for m in messages:
        source = m.get("url", "?")
        where = names.get(source.rpartition("/")[2], source)
        lines.append(f"Nu {where} line {m.get('lastLine', '?')}: {m['message']}")
        if m.get("extract"):
            lines.append("    " + m["extract"].replace("\n", " "))
    return lines
