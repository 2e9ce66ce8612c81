"""CRM and campaign-manager sync: opt-in status both ways, match-up, re-permission.

* :class:`CrmSync`: pull CRM contacts into the consent store and push
  confirmations, unsubscribes, bounces and complaints back.
* :class:`FormIntake`: web-form sign-ups that stay pending and away from
  the CRM until confirmed.
* :class:`ReviewQueue`: ambiguous matches and undecidable conflicts.
* :class:`Repermission`: the confirmation mailing for documented single
  opt-ins.
* Adapters: :class:`CsvSource`, :class:`JsonlSource`, :class:`CsvSink`,
  :class:`JsonlSink`, and the protocols :class:`CrmSource`, :class:`CrmSink`.

See docs/sync.md for the rules.
"""

from __future__ import annotations

from .adapters import CrmSource, CsvSink, CsvSource, JsonlSink, JsonlSource, MemorySink
from .config import (
    ColumnMapping,
    MatchSettings,
    PurposeColumns,
    SyncConfig,
    config_from_dict,
    load_config,
)
from .engine import CrmSink, CrmSync, SyncReport, translate_event
from .intake import FormIntake, purge_orphans
from .matching import Candidate, Match, MatchIndex, MatchOutcome, match_keys
from .records import CrmContact, CrmOptIn, CrmUpdate, RowProblem, UpdateKind
from .repermission import Repermission, RepermissionReport
from .review import Review, ReviewQueue
from .rules import Action, Decision, decide_block, decide_opt_in

__all__ = [
    "Action",
    "Candidate",
    "ColumnMapping",
    "CrmContact",
    "CrmOptIn",
    "CrmSink",
    "CrmSource",
    "CrmSync",
    "CrmUpdate",
    "CsvSink",
    "CsvSource",
    "Decision",
    "FormIntake",
    "JsonlSink",
    "JsonlSource",
    "Match",
    "MatchIndex",
    "MatchOutcome",
    "MatchSettings",
    "MemorySink",
    "PurposeColumns",
    "Repermission",
    "RepermissionReport",
    "Review",
    "ReviewQueue",
    "RowProblem",
    "SyncConfig",
    "SyncReport",
    "UpdateKind",
    "decide_block",
    "config_from_dict",
    "decide_opt_in",
    "load_config",
    "match_keys",
    "purge_orphans",
    "translate_event",
]
