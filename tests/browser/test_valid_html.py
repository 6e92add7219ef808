"""Every page the browser tests were shown, as the server sent it, is valid HTML to
the Nu HTML Checker: one run of the checker for all of them, at the end (conftest
moves this test last). Run on its own, it visits the public pages itself."""

from .tab import PHONE
from .tools import vnu_command, vnu_errors

PUBLIC_PAGES = ["/", "/privacy", "/organiser/login", "/events/{seed}", "/events/{seed}/volunteer"]


def test_every_page_shown_is_valid_html(open_tab, vigil, rendered, tmp_path):
    vnu_command()  # fails first, naming the install script, if the checker is missing
    if not rendered:
        tab = open_tab("valid-html", PHONE)
        for n, path in enumerate(PUBLIC_PAGES):
            tab.open(path.format(seed=vigil.seed_slug), f"page-{n}")
    errors = vnu_errors(rendered, tmp_path)
    assert not errors, f"{len(errors)} lines from the Nu HTML Checker:\n" + "\n".join(errors)
