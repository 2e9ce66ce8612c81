"""The optional SpamAssassin score: report parsing and a real local run."""

from __future__ import annotations

import json

from deliverability.cli import main
from deliverability.lint.spamassassin import parse_report, run_spamassassin, score_item
from tests.conftest import require_program

from .messages import TEXT, build_message

REPORT = """\
6.1/5.0
Content analysis details:   (6.1 points, 5.0 required)

 pts rule name              description
---- ---------------------- --------------------------------------------------
 2.5 FAKE_RULE_ONE          A made-up rule with a description that is long
                            enough to wrap onto a second line
 3.6 FAKE_RULE_TWO          Another made-up rule
-0.0 NEGATIVE_ZERO          Rule with no weight

"""

# The public GTUBE string, which every SpamAssassin scores as spam.
GTUBE = "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X"


def test_parse_score():
    result = parse_report(REPORT, "spamc")
    assert (result.score, result.threshold) == (6.1, 5.0)


def test_parse_rule_names():
    result = parse_report(REPORT, "spamc")
    assert [r.name for r in result.rules] == [
        "FAKE_RULE_ONE",
        "FAKE_RULE_TWO",
        "NEGATIVE_ZERO",
    ]


def test_parse_wrapped_description():
    result = parse_report(REPORT, "spamc")
    assert result.rules[0].description.endswith("onto a second line")


def test_parse_without_report_is_none():
    assert parse_report("0/0\n", "spamc") is None


def test_score_over_threshold_is_error():
    item = score_item(parse_report(REPORT, "spamc"))
    assert item.finding.severity == "error"


def test_local_spamassassin_scores_gtube():
    require_program("spamassassin")
    result = run_spamassassin(build_message(text=TEXT + "\n" + GTUBE + "\n"))
    assert result.score >= 100


def test_cli_adds_score(tmp_path, capsys):
    require_program("spamassassin")
    path = tmp_path / "m.eml"
    path.write_bytes(build_message())
    main(["lint", str(path), "--spamassassin", "--format", "json", "--spamd-port", "1"])
    data = json.loads(capsys.readouterr().out)
    assert data["checks"]["lint"]["spamassassin"]["program"] == "spamassassin"
