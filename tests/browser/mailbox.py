"""Reading what the app's mail worker delivered to the SMTP server, as a person reads
their inbox: wait for the message, then follow the link in it."""

import re
import time

from helpers import text_body

WAIT_SECONDS = 20


class Mailbox:
    """Messages the SMTP server received; each is handed out once, oldest first, so a
    second email with the same subject is a new one."""

    def __init__(self, recorder, origin: str):
        self.recorder = recorder
        self.origin = origin
        self.taken: set[int] = set()

    def wait_for(self, to: str, subject: str):
        """The next message to `to` whose subject contains `subject`."""
        deadline = time.monotonic() + WAIT_SECONDS
        while time.monotonic() < deadline:
            with self.recorder.lock:
                messages = list(enumerate(self.recorder.messages))
            for n, message in messages:
                if n not in self.taken and message["To"] == to and subject in message["Subject"]:
                    self.taken.add(n)
                    return message
            time.sleep(0.1)
        with self.recorder.lock:
            seen = [(m["To"], m["Subject"]) for m in self.recorder.messages]
        raise AssertionError(f"no email to {to} about {subject!r} came; received: {seen}")

    def link(self, message, path: str) -> str:
        """The path of the link in the text part that starts with `path` (e.g. "/rsvp/")."""
        pattern = re.escape(self.origin + path) + r"[A-Za-z0-9_-]+"
        found = re.search(pattern, text_body(message))
        assert found, f"no {path} link in the email {message['Subject']!r}"
        return found.group(0)[len(self.origin) :]
