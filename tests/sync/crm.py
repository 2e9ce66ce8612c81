"""A CRM export for the sync tests, written as CSV in the CRM's column names."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping
from pathlib import Path

from tests.sync.conftest import HEADER


def crm_row(crm_id: str, address: str, **values: str) -> dict[str, str]:
    """Return one CRM row; keyword names are column names with ``_`` for spaces."""
    row = {column: "" for column in HEADER}
    row["Contact ID"] = crm_id
    row["E-Mail"] = address
    for name, value in values.items():
        column = name.replace("_", " ")
        assert column in row, column
        row[column] = value
    return row


def write_crm(path: Path, rows: Iterable[Mapping[str, str]]) -> Path:
    """Write ``rows`` as a CSV export and return ``path``."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=HEADER)
        writer.writeheader()
        writer.writerows(rows)
    return path
