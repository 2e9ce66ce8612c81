from __future__ import annotations

from pathlib import Path

import deliverability
from deliverability import catalog
from deliverability.findings import Severity, rule

ROOT = Path(__file__).resolve().parent.parent


def test_all_names_resolve() -> None:
    for name in deliverability.__all__:
        assert getattr(deliverability, name) is not None, name


def test_all_is_sorted_and_unique() -> None:
    names = [n for n in deliverability.__all__ if n != "__version__"]
    assert len(names) == len(set(names))
    assert names == sorted(names, key=str.lower) or names == sorted(names)


def test_package_is_typed() -> None:
    assert (Path(deliverability.__file__).parent / "py.typed").exists()


def test_checks_doc_matches_registry() -> None:
    expected = catalog.render_markdown()
    actual = (ROOT / "docs" / "checks.md").read_text(encoding="utf-8")
    assert actual == expected, (
        "docs/checks.md is out of date: run "
        "python -m deliverability.catalog > docs/checks.md"
    )


def test_every_rule_has_fix_and_title() -> None:
    for item in catalog.load_all_rules():
        assert item.title.strip(), item.code
        assert item.fix.strip(), item.code


def test_rule_codes_name_their_check() -> None:
    for item in catalog.load_all_rules():
        prefix = item.check.replace("-", "_")
        assert item.code.split(".")[0] in (item.check, prefix), item.code


def test_duplicate_code_rejected() -> None:
    try:
        rule("dns.lookup_failed", "dns", Severity.ERROR, "again", fix="none")
    except ValueError as exc:
        assert "declared twice" in str(exc)
    else:
        raise AssertionError("a duplicate code was accepted")


def test_severity_order() -> None:
    assert Severity.INFO < Severity.WARNING < Severity.ERROR
    assert max([Severity.WARNING, Severity.ERROR, Severity.INFO]) is Severity.ERROR
