"""What Vigil tells people about their data, and the mailbox warning.

Attending a protest against a government is special-category data (political
opinion), so every form asks for explicit consent and links to the notice; the
notice says who holds what, why, for how long, and how to erase it.
"""

import functools
from pathlib import Path

WATCHED_DOMAINS_FILE = Path(__file__).parent / "data" / "watched-mail-domains.txt"


@functools.cache
def watched_domains() -> frozenset[str]:
    lines = WATCHED_DOMAINS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(
        line.strip().lower() for line in lines if line.strip() and not line.startswith("#")
    )


def is_watched_mailbox(address: str | None) -> bool:
    """Whether the address is at a provider the PRC authorities can read (or a subdomain)."""
    if not address or "@" not in address:
        return False
    domain = address.rsplit("@", 1)[1].strip().rstrip(".").lower()
    parts = domain.split(".")
    return any(".".join(parts[i:]) in watched_domains() for i in range(len(parts) - 1))
