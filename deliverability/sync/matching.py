"""Match-up of a confirmed sign-up with the CRM's contacts.

The normalized address decides first: exactly one CRM contact with the
same match key is a confident match, two or more are ambiguous. Without an
address match, the configured keys score each candidate: the weights of
its matching keys add up. One candidate at or above the threshold, and no
other worth showing, links; no candidate worth showing creates a new
contact; anything else goes to the review queue.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from .config import MatchSettings

__all__ = ["Candidate", "Match", "MatchIndex", "MatchOutcome", "match_keys"]

_SPACE = re.compile(r"\s+")
_LEGAL_FORMS = re.compile(r"\b(gmbh|ag|kg|inc|ltd|llc|co|corp|sa|sarl|bv|plc)\b\.?")


class MatchOutcome:
    """The outcomes of a match-up (plain strings, for JSON)."""

    LINK = "link"
    NEW = "new"
    REVIEW = "review"


@dataclass(frozen=True, slots=True)
class Candidate:
    """A CRM contact that may be the person who signed up."""

    crm_id: str
    score: float
    keys: tuple[str, ...]
    """The names of the keys that matched (``address`` for the address)."""

    def to_dict(self) -> dict[str, object]:
        """Return the JSON form."""
        return {"crm_id": self.crm_id, "score": self.score, "keys": list(self.keys)}


@dataclass(frozen=True, slots=True)
class Match:
    """The result of a match-up."""

    outcome: str
    crm_id: str | None = None
    candidates: tuple[Candidate, ...] = ()


def _fold(text: str | None) -> str:
    if not text:
        return ""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _SPACE.sub(" ", re.sub(r"[^\w ]", " ", plain)).strip()


def match_keys(
    *,
    first_name: str | None,
    last_name: str | None,
    company: str | None,
    phone: str | None,
    customer_number: str | None,
) -> dict[str, str]:
    """Return the normalized match keys that can be formed from these fields.

    Names and companies are case- and accent-folded, legal forms such as
    "GmbH" dropped; phone numbers keep their last 9 digits, so "+49 30 1234567"
    and "030 1234567" agree; a name key needs a last name and a company.
    """
    keys: dict[str, str] = {}
    company_key = _SPACE.sub(" ", _LEGAL_FORMS.sub("", _fold(company))).strip()
    if last_name and company_key:
        keys["name_company"] = f"{_fold(first_name)}|{_fold(last_name)}|{company_key}"
    digits = re.sub(r"\D", "", phone or "")
    if len(digits) >= 6:
        keys["phone"] = digits[-9:]
    if customer_number and customer_number.strip():
        keys["customer_number"] = customer_number.strip().upper()
    return keys


@dataclass
class MatchIndex:
    """CRM contacts indexed by address key and by each match key."""

    settings: MatchSettings
    by_address: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    by_key: dict[tuple[str, str], list[str]] = field(
        default_factory=lambda: defaultdict(list)
    )

    def add(
        self, crm_id: str, address_key: str | None, keys: Mapping[str, str]
    ) -> None:
        """Index one CRM contact."""
        if address_key:
            self.by_address[address_key].append(crm_id)
        for name, value in keys.items():
            self.by_key[(name, value)].append(crm_id)

    def match(self, address_key: str, keys: Mapping[str, str]) -> Match:
        """Match a sign-up's address key and match keys against the index."""
        same_address = self.by_address.get(address_key, [])
        if len(same_address) == 1:
            found = Candidate(same_address[0], 1.0, ("address",))
            return Match(MatchOutcome.LINK, same_address[0], (found,))
        if same_address:
            many = tuple(Candidate(c, 1.0, ("address",)) for c in same_address)
            return Match(MatchOutcome.REVIEW, None, many)
        return self._by_keys(keys)

    def _by_keys(self, keys: Mapping[str, str]) -> Match:
        scores: dict[str, float] = defaultdict(float)
        matched: dict[str, list[str]] = defaultdict(list)
        for name, value in keys.items():
            weight = self.settings.weights.get(name, 0.0)
            for crm_id in self.by_key.get((name, value), []):
                scores[crm_id] += weight
                matched[crm_id].append(name)
        shown = sorted(
            (
                Candidate(c, round(min(s, 1.0), 3), tuple(matched[c]))
                for c, s in scores.items()
                if s >= self.settings.review_threshold
            ),
            key=lambda c: (-c.score, c.crm_id),
        )
        if not shown:
            return Match(MatchOutcome.NEW)
        if len(shown) == 1 and shown[0].score >= self.settings.threshold:
            return Match(MatchOutcome.LINK, shown[0].crm_id, tuple(shown))
        return Match(MatchOutcome.REVIEW, None, tuple(shown))

    @classmethod
    def build(
        cls,
        settings: MatchSettings,
        rows: Iterable[tuple[str, str | None, Mapping[str, str]]],
    ) -> MatchIndex:
        """Build an index from ``(crm_id, address_key, keys)`` rows."""
        index = cls(settings)
        for crm_id, address_key, keys in rows:
            index.add(crm_id, address_key, keys)
        return index
