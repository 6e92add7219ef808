"""Fixtures for the browser tests: one real server, one SMTP server and one Chromium
for all of them, and a new browser context for each person in each test. Those
are package fixtures: in a run of the whole suite they stop once this package's
tests are done, instead of idling beside the rest.

These tests ask for no `app` fixture, so they run once, not once per database
engine: the server has a SQLite file of its own. Every page a test visits is
checked as it goes (see tab.py); a test whose pages broke a rule fails at its end
with the list, and the last test validates every page's HTML at once.
"""

import shutil
from pathlib import Path

import pytest
from conftest import SmtpRecorder, free_port

from . import server
from .flows import rsvp_with_a_place
from .mailbox import Mailbox
from .tab import PHONE, SCREENSHOTS, Tab
from .tools import camera_film, chromium

HERE = Path(__file__).resolve().parent
LAST = HERE / "test_valid_html.py"


def pytest_collection_modifyitems(config, items):
    """The HTML check reads every page the other browser tests saw, so it runs after
    the last of them (and still among them, for the package fixtures)."""
    last = [item for item in items if item.path == LAST]
    rest = [item for item in items if item.path != LAST]
    ours = [n for n, item in enumerate(rest) if HERE in item.path.parents]
    at = ours[-1] + 1 if ours else len(rest)
    items[:] = rest[:at] + last + rest[at:]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    """After the test's own asserts: fail it for what its pages broke on the way."""
    tabs = getattr(item, "browser_tabs", [])
    try:
        result = yield
    except BaseException:
        found = [line for tab in tabs for line in tab.report()]
        if found:
            item.add_report_section("call", "page checks", "\n".join(found))
        raise
    found = [line for tab in tabs for line in tab.report()]
    if found:
        pytest.fail("pages broke rules:\n" + "\n".join(found), pytrace=False)
    return result


@pytest.fixture(scope="package")
def smtp_server():
    from aiosmtpd.controller import Controller

    controller = Controller(SmtpRecorder(), hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller
    controller.stop()


@pytest.fixture(scope="package")
def vigil(smtp_server, tmp_path_factory):
    """The app served on a free port, delivering mail to the SMTP server."""
    instance = tmp_path_factory.mktemp("vigil") / "instance"
    instance.mkdir()
    port = free_port()
    origin = f"http://127.0.0.1:{port}"
    seed_slug = server.prepare(instance, origin)
    processes = server.start(server.environment(instance, origin, smtp_server.port), port, instance)
    yield server.Vigil(origin=origin, instance=instance, seed_slug=seed_slug)
    server.stop(processes)


@pytest.fixture(scope="package")
def mailbox(vigil, smtp_server):
    return Mailbox(smtp_server.handler, vigil.origin)


@pytest.fixture(scope="package")
def rendered():
    """(url, html) of every page shown, as the server sent it."""
    return []


@pytest.fixture(scope="package")
def camera(tmp_path_factory) -> Path:
    """The film the browser's camera shows (a test writes it before scanning)."""
    film = tmp_path_factory.mktemp("camera") / "camera.y4m"
    camera_film(film, "NOTHING")
    return film


@pytest.fixture(scope="package")
def browser(camera):
    """One Chromium for every test; the screenshots of the last run are cleared."""
    shutil.rmtree(SCREENSHOTS, ignore_errors=True)
    SCREENSHOTS.mkdir()
    with chromium(camera) as browser:
        yield browser


@pytest.fixture
def open_tab(request, browser, vigil, rendered):
    """open_tab(flow, look): a new context, closed after the test and checked by it."""
    tabs = request.node.browser_tabs = []

    def open_one(flow: str, look) -> Tab:
        tab = Tab(browser, vigil.origin, flow, look, rendered)
        tabs.append(tab)
        return tab

    yield open_one
    for tab in tabs:
        tab.close()


@pytest.fixture(scope="package")
def full_event(browser, vigil, mailbox, rendered):
    """The event with one place, taken by a first attendee: (slug, their address)."""
    tab = Tab(browser, vigil.origin, "fill-the-one-place", PHONE, rendered)
    email = "first-attendee@example.org"
    try:
        rsvp_with_a_place(tab, mailbox, server.FULL, email, "First Attendee")
    finally:
        tab.close()
    return server.FULL, email
