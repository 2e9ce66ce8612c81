"""Renderers of audit results: terminal text, JSON, JSON Lines and HTML."""

from __future__ import annotations

from .html import (
    html_environment,
    html_file_name,
    render_html,
    render_html_index,
    write_html_reports,
)
from .jsonout import dumps_json, dumps_jsonl_line, load_schema, report_to_json
from .progress import Progress
from .summary import report_status, severity_counts
from .text import escape_terminal, render_summary_text, render_text

__all__ = [
    "Progress",
    "dumps_json",
    "dumps_jsonl_line",
    "escape_terminal",
    "html_environment",
    "html_file_name",
    "load_schema",
    "render_html",
    "render_html_index",
    "render_summary_text",
    "render_text",
    "report_status",
    "report_to_json",
    "severity_counts",
    "write_html_reports",
]
