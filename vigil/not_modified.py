"""A calendar app's "has the feed changed?" answered before Flask is entered.

Calendar apps poll the public feed every hour or so with If-None-Match and almost
always get 304. Building Flask's request, session and response for that answer
costs several times what the answer itself does. So the feed's view marks its
304 as one to remember, with a check saying whether the page it named is still
current (the page cache's own test, no query). This middleware keeps that 304's
status and headers and gives them, exactly as Flask sent them, to the next
request for the same path with the same ETag while the check holds. Requests with
a cookie or a query string, any other method, and every other path go to Flask.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from werkzeug.http import parse_etags

# The environ key a view sets to a check(environ) -> bool to have its 304 remembered.
REMEMBER = "vigil.not_modified.check"


@dataclass(frozen=True)
class _Answer:
    etag: str
    status: str
    headers: list[tuple[str, str]]
    still_current: Callable[[dict], bool]


def _plain(environ: dict) -> bool:
    """A request whose 304 is the same for everyone: no cookie, no query string."""
    return (
        environ.get("REQUEST_METHOD") in ("GET", "HEAD")
        and not environ.get("HTTP_COOKIE")
        and not environ.get("QUERY_STRING")
    )


class NotModifiedReplay:
    def __init__(self, app):
        self.app = app
        self._answers: dict[str, _Answer] = {}  # by path: only views that set REMEMBER

    def __call__(self, environ: dict, start_response) -> Iterable[bytes]:
        answer = self._answers.get(environ.get("PATH_INFO", ""))
        if (
            answer is not None
            and _plain(environ)
            and parse_etags(environ.get("HTTP_IF_NONE_MATCH")).contains(answer.etag)
            and answer.still_current(environ)
        ):
            start_response(answer.status, answer.headers)
            return []
        return self.app(environ, self._remembering(environ, start_response))

    def _remembering(self, environ: dict, start_response):
        def remember(status: str, headers: list, exc_info=None):
            check = environ.get(REMEMBER)
            if check is not None and status.startswith("304") and _plain(environ):
                etag = dict((k.lower(), v) for k, v in headers).get("etag", "")
                self._answers[environ.get("PATH_INFO", "")] = _Answer(
                    etag.strip('"'), status, list(headers), check
                )
            return start_response(status, headers, exc_info)

        return remember
