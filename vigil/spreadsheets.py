"""CSV that spreadsheet apps open safely: UTF-8 with BOM, and no formulas from input.

A cell that starts with =, +, -, @, a tab or a carriage return (or their
full-width forms, or any of them after spaces) would run as a formula in Excel or
LibreOffice; such cells get a leading apostrophe.
"""

import csv
import unicodedata
from collections.abc import Iterable

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value) -> str:
    """Full-width signs (＝, ＋, －, ＠) and leading spaces count too: spreadsheets
    fold the first into ASCII, skip the second, and run what follows."""
    text = "" if value is None else str(value)
    folded = unicodedata.normalize("NFKC", text).lstrip(" \u3000\xa0")
    risky = text.startswith(_FORMULA_STARTS) or folded.startswith(_FORMULA_STARTS)
    return "'" + text if risky else text


def write_csv(stream, header: list[str] | None, rows: Iterable[list]) -> None:
    """Write to a text stream opened with encoding='utf-8-sig' (the BOM) and newline=''.

    `header` None continues a file whose header is already written.
    """
    writer = csv.writer(stream)
    if header is not None:
        writer.writerow(header)
    for row in rows:
        writer.writerow([neutralise(v) for v in row])
