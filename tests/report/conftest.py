"""Fixtures of the renderer tests: hand-built audit reports."""

from __future__ import annotations

import pytest

from deliverability.audit.model import DomainReport

from .samples import (
    build_hostile_report,
    build_idn_report,
    build_incomplete_report,
    build_passing_report,
    build_report,
)


@pytest.fixture
def report() -> DomainReport:
    return build_report()


@pytest.fixture
def hostile_report() -> DomainReport:
    return build_hostile_report()


@pytest.fixture
def incomplete_report() -> DomainReport:
    return build_incomplete_report()


@pytest.fixture
def passing_report() -> DomainReport:
    return build_passing_report()


@pytest.fixture
def idn_report() -> DomainReport:
    return build_idn_report()


@pytest.fixture
def all_reports() -> list[DomainReport]:
    return [
        build_report(),
        build_hostile_report(),
        build_incomplete_report(),
        build_passing_report(),
        build_idn_report(),
    ]
