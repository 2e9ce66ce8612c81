"""Fixtures for lint tests."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from deliverability.lint import LintOptions, LintReport, lint_bytes


@pytest.fixture
def lint() -> Callable[..., LintReport]:
    """Lint raw bytes with optional LintOptions keyword arguments."""

    def run(data: bytes, **options: object) -> LintReport:
        return lint_bytes(data, name="test.eml", options=LintOptions(**options))  # type: ignore[arg-type]

    return run
