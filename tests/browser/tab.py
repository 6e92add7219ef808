"""A browser tab that watches itself: every request it makes, and at each step of a
flow a full-page screenshot, an axe-core run and the page's HTML kept for the Nu
HTML Checker. What it finds is reported at the end of the test, all at once."""

from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Error as PlaywrightError

from .tools import HERE, axe_violations

SCREENSHOTS = HERE / "screenshots"
TIMEOUT_MS = 10_000


@dataclass(frozen=True)
class Look:
    """How a person sees the pages: the window's size, and whether JavaScript runs."""

    width: int
    height: int
    javascript: bool = True

    @property
    def label(self) -> str:
        return f"{self.width}" + ("" if self.javascript else "-nojs")

    @property
    def phone(self) -> bool:
        return self.width < 600


PHONE = Look(390, 844)
DESKTOP = Look(1280, 800)
PHONE_WITHOUT_JAVASCRIPT = Look(390, 844, javascript=False)


def looks(*chosen: Look) -> list:
    """Parameters for a test run once per look, named by it ("390", "1280-nojs")."""
    return [pytest.param(look, id=look.label) for look in chosen]


LOOKS = looks(PHONE, DESKTOP)
# Public flows are walked with JavaScript off too: many attendees' phones block it.
PUBLIC_LOOKS = looks(PHONE, DESKTOP, PHONE_WITHOUT_JAVASCRIPT)


class Tab:
    """One new browser context and its page, for one person in one test."""

    def __init__(self, browser, origin: str, flow: str, look: Look, rendered: list):
        self.origin = origin
        self.flow = flow
        self.look = look
        self.rendered = rendered  # (url, html) of every page, for the Nu checker
        self.requests: list[str] = []
        self.problems: list[str] = []
        self.steps = 0
        self.document = None
        self.context = self._new_context(browser, look.javascript)
        self.context.on("response", self._keep_document)
        self.page = self.context.new_page()
        self.page.on("pageerror", lambda e: self.problems.append(f"script error: {e}"))
        # axe runs in the page, so it needs JavaScript: without it, a twin page that
        # has it reads the same HTML from the same origin.
        self.twin = None
        if not look.javascript:
            self.twin = self._new_context(browser, True).new_page()
            self.twin_html = ""
            self.twin.route(
                self._twin_url,
                lambda route: route.fulfill(
                    body=self.twin_html, content_type="text/html; charset=utf-8"
                ),
            )

    @property
    def _twin_url(self) -> str:
        return self.origin + "/--axe-twin--"

    def _new_context(self, browser, javascript: bool):
        context = browser.new_context(
            viewport={"width": self.look.width, "height": self.look.height},
            is_mobile=self.look.phone,
            has_touch=self.look.phone,
            java_script_enabled=javascript,
            locale="en-GB",
        )
        context.set_default_timeout(TIMEOUT_MS)
        context.on("request", lambda request: self.requests.append(request.url))
        context.route("**/*", self._guard)
        return context

    def _ours(self, url: str) -> bool:
        return url == self.origin or url.startswith((self.origin + "/", "data:"))

    def _guard(self, route) -> None:
        """Nothing leaves for another origin; the request is reported all the same."""
        if self._ours(route.request.url):
            route.continue_()
        else:
            route.abort()

    def _keep_document(self, response) -> None:
        request = response.request
        if request.resource_type == "document" and request.frame == self.page.main_frame:
            if not 300 <= response.status < 400:
                self.document = response

    # ------------------------------------------------------------ acting

    def open(self, path: str, step: str):
        """Go to a page of the app by its address; returns the response."""
        response = self.page.goto(self.origin + path)
        self.step(step)
        return response

    def submit(self, control, step: str) -> None:
        """Press a button or follow a link that loads a new page, then take the step."""
        with self.page.expect_event("load"):
            control.click()
        self.step(step)

    def download(self, link) -> tuple[str, bytes]:
        """Follow a download link: (its address, the bytes saved)."""
        with self.page.expect_download() as info:
            link.click()
        download = info.value
        self.requests.append(download.url)  # downloads raise no request event
        return download.url, Path(download.path()).read_bytes()

    # ------------------------------------------------------------ checking

    def screenshot_path(self, name: str) -> Path:
        """Where a screenshot of this flow's next moment goes, named like the steps'."""
        return SCREENSHOTS / f"{self.flow}-{self.steps:02d}-{name}-{self.look.label}.png"

    def step(self, name: str) -> None:
        """Screenshot, keep the HTML as served, and run axe on what is shown now."""
        self.page.wait_for_load_state()
        self.steps += 1
        url = self.page.url
        self.page.screenshot(path=self.screenshot_path(name), full_page=True)
        html = self._served_html()
        if html is None:
            self.problems.append(f"step {name}: no HTML page as served to check at {url}")
            return
        self.rendered.append((url, html))
        checked = self.page
        if self.twin is not None:
            self.twin_html = html
            self.twin.goto(self._twin_url)
            checked = self.twin
        self.problems.extend(axe_violations(checked, url))

    def _served_html(self) -> str | None:
        """The body of the response the page shows, as the server sent it."""
        document, self.document = self.document, None
        if document is None or "text/html" not in document.headers.get("content-type", ""):
            return None
        try:
            return document.body().decode("utf-8")
        except PlaywrightError:
            return None

    def report(self) -> list[str]:
        """What went wrong: requests to other origins, script errors, axe violations."""
        foreign = dict.fromkeys(u for u in self.requests if not self._ours(u))
        return [f"request to another origin: {u}" for u in foreign] + self.problems

    def close(self) -> None:
        self.context.close()
        if self.twin is not None:
            self.twin.context.close()
