"""The JSON and JSON Lines reports; the fields are documented in docs/json-schema.md.

``--format json`` prints one object for one domain and an array for several.
``--format jsonl`` prints one object per line as each domain finishes, so a run
over a million domains streams instead of holding every report.
"""

from __future__ import annotations

import enum
import json
import math
import re
from collections.abc import Mapping, Sequence
from importlib import resources
from typing import Any

from ..audit.model import DomainReport
from .summary import report_status, severity_counts

__all__ = [
    "dumps_json",
    "dumps_jsonl_line",
    "load_schema",
    "report_to_json",
]

# JSON allows these characters raw inside strings, but a terminal acts on C1
# controls and DEL, and bidirectional overrides reorder what people read.
_RAW_UNSAFE = re.compile(
    "[\x7f-\x9f\u061c\u200b\u200e\u200f\u2028-\u202e\u2066-\u2069\ufeff]"
)


def report_to_json(report: DomainReport) -> dict[str, Any]:
    """Return the JSON object for one domain: :meth:`DomainReport.to_dict` plus
    ``status`` (pass, fail or incomplete) and ``counts`` per severity.

    Every value is converted to a JSON type: tuples and sets become lists,
    enums their value, other objects their ``to_dict()`` or their text.
    """
    data: dict[str, Any] = _jsonable(report.to_dict())
    data["status"] = report_status(report)
    data["counts"] = severity_counts(report.findings)
    return data


def dumps_json(reports: Sequence[DomainReport]) -> str:
    """Serialise one report as an object and any other number as an array.

    The text is indented by two spaces and has no final newline.
    """
    if len(reports) == 1:
        payload: Any = report_to_json(reports[0])
    else:
        payload = [report_to_json(report) for report in reports]
    return _dumps(payload, indent=2)


def dumps_jsonl_line(report: DomainReport) -> str:
    """Serialise one report as a single JSON Lines record, without the newline.

    The text contains no line break, so the caller ends the line with ``\\n``.
    """
    return _dumps(report_to_json(report), indent=None)


def load_schema() -> dict[str, Any]:
    """Return the JSON Schema (draft 2020-12) of one domain object."""
    text = resources.files(__package__).joinpath("schema.json").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def _dumps(payload: Any, *, indent: int | None) -> str:
    separators = (",", ": ") if indent else (",", ":")
    text = json.dumps(
        payload,
        ensure_ascii=False,
        indent=indent,
        separators=separators,
        allow_nan=False,
    )
    # Every character the pattern matches is non-ASCII or DEL, so it can only
    # sit inside a JSON string, where a \u escape stands for it exactly.
    return _RAW_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def _jsonable(value: Any) -> Any:
    """Return a copy of ``value`` built only from JSON types."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, enum.Enum):
        return _jsonable(value.value)
    if isinstance(value, Mapping):
        return {str(key): _jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    if isinstance(value, set | frozenset):
        return sorted((_jsonable(item) for item in value), key=repr)
    if isinstance(value, bytes):
        return value.hex()
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict):
        return _jsonable(to_dict())
    return str(value)
