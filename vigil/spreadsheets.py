"""CSV that spreadsheet apps open safely: UTF-8 with BOM, and no formulas from input.

A cell that starts with =, +, -, @, a tab or a carriage return would run as a
formula in Excel or LibreOffice; such cells get a leading apostrophe.
"""

import csv
from collections.abc import Iterable

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def write_csv(stream, header: list[str] | None, rows: Iterable[list]) -> None:
    """Write to a text stream opened with encoding='utf-8-sig' (the BOM) and newline=''.

    `header` None continues a file whose header is already written.
    """
    writer = csv.writer(stream)
    if header is not None:
        writer.writerow(header)
    for row in rows:
        writer.writerow([neutralise(v) for v in row])
