"""Organizational domains and DMARC policy discovery, by both methods in use.

RFC 7489, section 3.2 finds a domain's Organizational Domain with the Public
Suffix List: the longest public suffix that matches, plus one label. Policy
discovery then asks ``_dmarc`` at the domain and, failing that, at that
Organizational Domain (RFC 7489, section 6.6.3).

RFC 9989, section 4.10 replaces the list with the DNS Tree Walk: ask
``_dmarc`` at the domain and then at each parent up to the root, jumping
straight to seven labels for longer names so that a walk never sends more
than eight queries. A record with ``psd=y`` or ``psd=n`` ends the walk. The
Organizational Domain is then the name with ``psd=n``, or the name one label
below a ``psd=y`` record, or else the shortest name that published a record.

The two methods disagree when the DNS and the list draw the boundary in
different places, so the audit runs both and reports the difference.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from publicsuffixlist import PublicSuffixList

from ..dns.answer import Answer, Status
from ..dns.psl import public_suffix_list
from ..dns.resolver import Resolver
from ..errors import InvalidDomainError
from .dmarc_record import DMARCRecord, is_dmarc_record

__all__ = [
    "MAX_WALK_QUERIES",
    "PolicyDiscovery",
    "WalkStep",
    "discover_policy",
    "discover_policy_psl",
    "organizational_domain_psl",
    "select_organizational_domain",
    "tree_walk_names",
]

logger = logging.getLogger(__name__)

#: The most DNS queries one tree walk sends (RFC 9989, section 4.10).
MAX_WALK_QUERIES = 8


def _public_suffix_list() -> PublicSuffixList:
    # The list bundled with the installed publicsuffixlist package. It is
    # never downloaded, so results change only when the package is updated.
    return public_suffix_list()


def organizational_domain_psl(name: str) -> str:
    """Return the Organizational Domain of ``name`` by the Public Suffix List.

    ``name`` is lower-case A-labels without the final dot. Both sections of
    the list (ICANN and private) count, and an unlisted top-level domain is
    treated as a public suffix (the list's ``*`` rule). A name that is itself
    a public suffix is returned unchanged (RFC 7489, section 3.2).
    """
    name = name.rstrip(".").lower()
    found = _public_suffix_list().privatesuffix(name)
    return found if found else name


def tree_walk_names(domain: str) -> list[str]:
    """Return the names a DNS Tree Walk from ``domain`` asks, in order.

    The walk starts at ``domain``. A name of eight or more labels is then cut
    to its last seven, and each later step removes the left-most label, so
    the list has at most :data:`MAX_WALK_QUERIES` names.
    """
    labels = domain.split(".")
    names = [domain]
    count = len(labels) - 1 if len(labels) < MAX_WALK_QUERIES else MAX_WALK_QUERIES - 1
    while count >= 1:
        names.append(".".join(labels[-count:]))
        count -= 1
    return names


@dataclass(frozen=True, slots=True)
class WalkStep:
    """The ``_dmarc`` lookup at one name of a walk, and what it found."""

    domain: str
    """The name below ``_dmarc``, e.g. ``example.com``."""
    answer: Answer
    records: tuple[str, ...]
    """The TXT records that start with ``v=DMARC1``, in the order received."""
    parsed: DMARCRecord | None
    """The parsed record when exactly one was found, otherwise ``None``."""

    @property
    def name(self) -> str:
        """The name asked, e.g. ``_dmarc.example.com``."""
        return f"_dmarc.{self.domain}"

    @property
    def record(self) -> DMARCRecord | None:
        """The single valid DMARC record here, or ``None``.

        Several records are all discarded, and so is a record whose
        tag-list is invalid (RFC 9989, section 4.10, step 2).
        """
        if self.parsed is not None and self.parsed.valid:
            return self.parsed
        return None

    @property
    def psd(self) -> str | None:
        """The record's valid ``psd`` value, or ``None``."""
        record = self.record
        return record.valid_value("psd") if record is not None else None


@dataclass(frozen=True, slots=True)
class PolicyDiscovery:
    """The outcome of policy discovery for one domain by one method."""

    domain: str
    method: str
    """``tree-walk`` (RFC 9989) or ``psl`` (RFC 7489)."""
    steps: tuple[WalkStep, ...]
    organizational_domain: str
    policy_step: WalkStep | None
    """The step whose record applies to the domain, or ``None``."""

    @property
    def names(self) -> list[str]:
        """The ``_dmarc`` names queried, in order."""
        return [step.name for step in self.steps]

    @property
    def failed(self) -> list[Answer]:
        """Lookups that failed, so the outcome may be wrong."""
        return [step.answer for step in self.steps if step.answer.failed]

    @property
    def record(self) -> DMARCRecord | None:
        """The policy record that applies, or ``None`` when none was found."""
        return self.policy_step.record if self.policy_step else None

    @property
    def location(self) -> str | None:
        """Where the applicable record is, e.g. ``_dmarc.example.com``."""
        return self.policy_step.name if self.policy_step else None

    @property
    def policy_domain(self) -> str | None:
        """The name that published the applicable record."""
        return self.policy_step.domain if self.policy_step else None

    @property
    def from_public_suffix(self) -> bool:
        """True when the record applies as a public suffix's (``psd=y``) policy."""
        step = self.policy_step
        return step is not None and step.psd == "y" and step.domain != self.domain


async def _lookup(domain: str, resolver: Resolver) -> WalkStep:
    name = f"_dmarc.{domain}"
    try:
        answer = await resolver.resolve(name, "TXT")
    except InvalidDomainError as exc:
        # Longer than a DNS name may be, so no record can exist there.
        logger.debug("skipping %s: %s", name, exc.reason)
        answer = Answer(name, "TXT", Status.NXDOMAIN)
    records = tuple(text for text in answer.texts if is_dmarc_record(text))
    parsed = None
    if len(records) == 1:
        parsed = DMARCRecord.from_text(records[0], location=name)
    return WalkStep(domain, answer, records, parsed)


async def discover_policy(domain: str, *, resolver: Resolver) -> PolicyDiscovery:
    """Walk the DNS tree from ``domain`` as RFC 9989, section 4.10 describes.

    The walk asks the names of :func:`tree_walk_names` in turn and stops
    early at a record with ``psd=y`` or ``psd=n``. It does not stop at a
    failed lookup: the failure is kept in the step and listed by
    :attr:`PolicyDiscovery.failed`, because the outcome may then be wrong.
    """
    steps: list[WalkStep] = []
    for name in tree_walk_names(domain):
        step = await _lookup(name, resolver)
        steps.append(step)
        if step.psd in ("y", "n"):
            break
    org = select_organizational_domain(domain, steps)
    policy = _select_policy_step(domain, org, steps)
    logger.debug("tree walk for %s: org %s, %d queries", domain, org, len(steps))
    return PolicyDiscovery(domain, "tree-walk", tuple(steps), org, policy)


async def discover_policy_psl(domain: str, *, resolver: Resolver) -> PolicyDiscovery:
    """Find the policy record as RFC 7489, section 6.6.3 does, with the PSL.

    Asks ``_dmarc`` at ``domain`` and, when that has no single record, at
    the domain's Organizational Domain by the Public Suffix List.
    """
    org = organizational_domain_psl(domain)
    first = await _lookup(domain, resolver)
    steps = [first]
    if first.record is None and org != domain:
        steps.append(await _lookup(org, resolver))
    policy = next((step for step in steps if step.record is not None), None)
    return PolicyDiscovery(domain, "psl", tuple(steps), org, policy)


def select_organizational_domain(domain: str, steps: Sequence[WalkStep]) -> str:
    """Choose the Organizational Domain from a walk's steps (RFC 9989, 4.10.2).

    Steps are read from the longest name to the shortest: a record with
    ``psd=n`` makes its name the answer, and a record with ``psd=y`` (except
    at ``domain`` itself) makes the name one label below it the answer.
    Otherwise the shortest name with a record wins. With no record at all,
    ``domain`` is its own Organizational Domain.
    """
    with_records = [step for step in steps if step.record is not None]
    for step in with_records:
        if step.psd == "n":
            return step.domain
        if step.psd == "y" and step.domain != domain:
            return _one_label_below(domain, step.domain)
    if with_records:
        return min(with_records, key=lambda step: step.domain.count(".")).domain
    return domain


def _one_label_below(domain: str, ancestor: str) -> str:
    labels = domain.split(".")
    depth = len(ancestor.split(".")) + 1
    return ".".join(labels[-depth:])


def _select_policy_step(
    domain: str, org: str, steps: Sequence[WalkStep]
) -> WalkStep | None:
    """Pick the record that applies: the domain's, its org's, or its PSD's."""
    by_domain = {step.domain: step for step in steps if step.record is not None}
    if domain in by_domain:
        return by_domain[domain]
    if org in by_domain:
        return by_domain[org]
    for step in by_domain.values():
        if step.psd == "y" and _one_label_below(domain, step.domain) == org:
            return step
    return None
