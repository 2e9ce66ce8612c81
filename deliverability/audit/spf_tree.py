"""The SPF lookup tree: discovery of records and the lookups their terms cost.

The tree is built in two steps so that counting stays deterministic while
lookups run concurrently:

1. :func:`crawl` fetches the record of the audited domain's include and
   redirect targets level by level, and resolves each record's ``a``, ``mx``
   and ``exists`` terms, with the lookups of one level in flight together.
   The result for a domain does not depend on the path that reached it.
2. :func:`build_tree` walks those records from the root, synchronously, and
   counts every term each time its record is reached, as a receiver would.
   Loops are found on the path from the root.

Counting follows RFC 7208, section 4.6.4: ``include``, ``a``, ``mx``,
``ptr``, ``exists`` and ``redirect`` cost one lookup each. The address lookups
of an ``mx`` term's hosts are part of its one lookup. A term is void when its
lookups return no records at all (NXDOMAIN or NODATA): for ``a`` that means
neither A nor AAAA, for ``mx`` no MX or no address for any MX host. A failed
lookup is never void; it makes the tree incomplete.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from ..dns.answer import Answer, MXRecord, Status, TXTRecord
from ..dns.resolver import Resolver
from ..findings import Finding, Severity, rule
from .spf_lint import SPF_PLUS_ALL, domain_name_error, plus_all_term
from .spf_syntax import DNS_MECHANISMS, Mechanism, Modifier, SPFRecord, is_spf_record

__all__ = [
    "LOOKUP_LIMIT",
    "MX_LIMIT",
    "VOID_LIMIT",
    "Discovery",
    "SPFTree",
    "TermLookup",
    "build_tree",
    "crawl",
    "discover",
    "evaluate_terms",
]

SPF_LOOKUP_LIMIT = rule(
    "spf.lookup_limit",
    "spf",
    Severity.ERROR,
    "SPF record needs more than 10 DNS lookups",
    fix=(
        "Remove unused includes, replace 'a', 'mx' and 'ptr' with 'ip4:'/'ip6:' "
        "terms, or ask providers for a flatter include; receivers return "
        "permerror past 10 lookups."
    ),
    reference="RFC 7208, section 4.6.4",
)
SPF_VOID_LIMIT = rule(
    "spf.void_limit",
    "spf",
    Severity.ERROR,
    "SPF record has more than 2 void lookups",
    fix="Remove the terms that name domains with no records (the message lists them).",
    reference="RFC 7208, section 4.6.4",
)
SPF_MX_LIMIT = rule(
    "spf.mx_limit",
    "spf",
    Severity.ERROR,
    "mx mechanism names more than 10 MX hosts",
    fix="List the sending addresses with 'ip4:'/'ip6:' instead of 'mx'.",
    reference="RFC 7208, section 4.6.4",
)
SPF_INCLUDE_LOOP = rule(
    "spf.include_loop",
    "spf",
    Severity.ERROR,
    "SPF include loop",
    fix="Remove the include that leads back to a record already on the path.",
    reference="RFC 7208, section 5.2",
)
SPF_REDIRECT_LOOP = rule(
    "spf.redirect_loop",
    "spf",
    Severity.ERROR,
    "SPF redirect loop",
    fix="Point redirect= at a record that does not lead back to this one.",
    reference="RFC 7208, section 6.1",
)
SPF_INCLUDE_MISSING = rule(
    "spf.include_missing",
    "spf",
    Severity.ERROR,
    "include target has no SPF record",
    fix="Correct the include's domain or remove the term; receivers return permerror.",
    reference="RFC 7208, section 5.2",
)
SPF_REDIRECT_MISSING = rule(
    "spf.redirect_missing",
    "spf",
    Severity.ERROR,
    "redirect target has no SPF record",
    fix=(
        "Correct the redirect= domain or publish a record there; receivers "
        "return permerror."
    ),
    reference="RFC 7208, section 6.1",
)
SPF_TARGET_INVALID = rule(
    "spf.target_invalid",
    "spf",
    Severity.ERROR,
    "include or redirect target has an invalid SPF record",
    fix="Ask the target's owner to fix its record, or stop referring to it.",
    reference="RFC 7208, section 5.2",
)
SPF_TREE_TRUNCATED = rule(
    "spf.tree_truncated",
    "spf",
    Severity.ERROR,
    "SPF include tree is too large to follow completely",
    fix="Flatten the include tree; it is far past the 10-lookup limit.",
    reference="RFC 7208, section 4.6.4",
)

LOOKUP_LIMIT = 10
VOID_LIMIT = 2
MX_LIMIT = 10
#: The maximum number of distinct include or redirect targets fetched per domain.
MAX_RECORDS = 60
#: The maximum number of nodes in one tree. Far fewer already exceed the lookup limit.
MAX_TREE_NODES = 250


@dataclass(slots=True)
class Discovery:
    """The SPF records found at one name (RFC 7208, section 4.5)."""

    name: str
    answer: Answer
    records: list[TXTRecord] = field(default_factory=list)
    """The TXT records that begin with ``v=spf1``."""
    ignored: list[TXTRecord] = field(default_factory=list)
    """TXT records that look like SPF but do not begin exactly with ``v=spf1``."""

    @property
    def status(self) -> str:
        """``ok``, ``multiple``, ``none`` (TXT without SPF), ``nodata``,
        ``nxdomain`` or ``failed``."""
        if self.answer.failed:
            return "failed"
        if self.answer.status is Status.NXDOMAIN:
            return "nxdomain"
        if len(self.records) > 1:
            return "multiple"
        if self.records:
            return "ok"
        return "nodata" if self.answer.status is Status.NODATA else "none"

    @property
    def text(self) -> str | None:
        """The joined text of the one SPF record, or ``None``."""
        return self.records[0].text if self.status == "ok" else None

    @property
    def record(self) -> SPFRecord | None:
        """The parsed record when exactly one was found."""
        text = self.text
        return None if text is None else SPFRecord.from_text(text)


async def discover(resolver: Resolver, name: str) -> Discovery:
    """Look up the TXT records at ``name`` and pick out the SPF ones."""
    answer = await resolver.resolve(name, "TXT")
    found = Discovery(name, answer)
    for record in answer.records:
        if not isinstance(record, TXTRecord):
            continue
        text = record.text
        if is_spf_record(text):
            found.records.append(record)
        elif text.strip().lower().startswith("v=spf1"):
            found.ignored.append(record)
    return found


@dataclass(slots=True)
class TermLookup:
    """The outcome of the lookups of one DNS-costing term of a record."""

    term: Mechanism | Modifier
    outcome: str
    """``ok``, ``void``, ``failed``, ``follow`` (include or redirect),
    ``macro`` (not resolved), ``unresolved`` (ptr) or ``invalid`` (bad name)."""
    target: str | None = None
    failed: list[Answer] = field(default_factory=list)
    mx_hosts: int = 0

    @property
    def text(self) -> str:
        """The term as record text."""
        return self.term.to_text()


@dataclass(slots=True)
class _Record:
    """One fetched record with the outcomes of its terms' lookups."""

    discovery: Discovery
    record: SPFRecord | None
    lookups: list[TermLookup] = field(default_factory=list)


def lookup_terms(record: SPFRecord) -> list[Mechanism | Modifier]:
    """Return the terms a receiver evaluates that cost a DNS lookup, in order."""
    terms: list[Mechanism | Modifier] = [
        m for m in record.evaluated_mechanisms if m.name in DNS_MECHANISMS
    ]
    redirect = record.redirect
    if redirect is not None:
        terms.append(redirect)
    return terms


async def evaluate_terms(
    resolver: Resolver, domain: str, record: SPFRecord
) -> list[TermLookup]:
    """Resolve the ``a``, ``mx`` and ``exists`` terms of a record concurrently."""
    terms = lookup_terms(record)
    return list(await asyncio.gather(*(_evaluate(resolver, domain, t) for t in terms)))


async def _evaluate(
    resolver: Resolver, domain: str, term: Mechanism | Modifier
) -> TermLookup:
    if isinstance(term, Modifier) or term.name == "include":
        return _target_lookup(term, term.value or "")
    if term.has_macro:
        return TermLookup(term, "macro")
    if term.name == "ptr":
        return TermLookup(term, "unresolved")
    target = term.value or domain
    if domain_name_error(target):
        return TermLookup(term, "invalid", target)
    if term.name == "exists":
        answer = await resolver.resolve(target, "A")
        return _from_answers(term, target, [answer])
    if term.name == "a":
        return _from_answers(term, target, await _addresses(resolver, target))
    return await _evaluate_mx(resolver, term, target)


def _target_lookup(term: Mechanism | Modifier, value: str) -> TermLookup:
    if "%" in value:
        return TermLookup(term, "macro")
    if domain_name_error(value):
        return TermLookup(term, "invalid", value)
    return TermLookup(term, "follow", value.lower().rstrip("."))


async def _addresses(resolver: Resolver, name: str) -> list[Answer]:
    return list(
        await asyncio.gather(
            resolver.resolve(name, "A"), resolver.resolve(name, "AAAA")
        )
    )


def _from_answers(term: Mechanism, target: str, answers: list[Answer]) -> TermLookup:
    failed = [a for a in answers if a.failed]
    if any(a.found for a in answers):
        outcome = "ok"
    elif failed:
        outcome = "failed"
    else:
        outcome = "void"
    return TermLookup(term, outcome, target, failed)


async def _evaluate_mx(resolver: Resolver, term: Mechanism, target: str) -> TermLookup:
    answer = await resolver.resolve(target, "MX")
    if not answer.found:
        return _from_answers(term, target, [answer])
    hosts = [
        r.exchange
        for r in answer.records
        if isinstance(r, MXRecord) and r.exchange != "."
    ]
    # Receivers stop after 10 MX hosts (RFC 7208, section 4.6.4), and so do we.
    # A host name that cannot be looked up has no address to contribute.
    lookups = [
        _addresses(resolver, host)
        for host in hosts[:MX_LIMIT]
        if domain_name_error(host) is None
    ]
    answers = [a for pair in await asyncio.gather(*lookups) for a in pair]
    result = _from_answers(term, target, answers)
    result.mx_hosts = len(hosts)
    return result


async def crawl(resolver: Resolver, root: Discovery) -> dict[str, _Record]:
    """Fetch every record reachable from ``root`` and resolve their terms.

    Targets are fetched one level at a time, each level concurrently; at most
    :data:`MAX_RECORDS` distinct records are fetched.
    """
    records: dict[str, _Record] = {}
    level = [root]
    while level:
        entries = [_Record(d, d.record) for d in level]
        results = await asyncio.gather(*(_resolve_record(resolver, e) for e in entries))
        targets: list[str] = []
        for entry, lookups in zip(entries, results, strict=True):
            entry.lookups = lookups
            records[entry.discovery.name] = entry
            targets += [t.target for t in lookups if t.outcome == "follow" and t.target]
        fresh = list(dict.fromkeys(t for t in targets if t not in records))
        fresh = fresh[: max(0, MAX_RECORDS - len(records))]
        level = list(await asyncio.gather(*(discover(resolver, t) for t in fresh)))
    return records


async def _resolve_record(resolver: Resolver, entry: _Record) -> list[TermLookup]:
    # Receivers return permerror for a record with a syntax error before they
    # evaluate any term (RFC 7208, section 4.6), so its terms cost no lookup.
    if entry.record is None or not entry.record.valid:
        return []
    return await evaluate_terms(resolver, entry.discovery.name, entry.record)


@dataclass(slots=True)
class SPFTree:
    """The evaluated tree with its totals and the findings it gave rise to."""

    root: dict[str, Any]
    dns_lookups: int = 0
    void_lookups: int = 0
    findings: list[Finding] = field(default_factory=list)
    failed: list[Answer] = field(default_factory=list)
    void_terms: list[str] = field(default_factory=list)
    """``domain: term`` for each void lookup, in tree order."""
    redirect_chain: list[tuple[str, SPFRecord]] = field(default_factory=list)
    """The records reached through ``redirect=`` from the root, in order."""
    truncated: bool = False

    @property
    def complete(self) -> bool:
        """False when any lookup in the tree failed."""
        return not self.failed


def build_tree(records: dict[str, _Record], root: str) -> SPFTree:
    """Walk the fetched records from ``root`` and count lookups over the tree."""
    tree = SPFTree(root={})
    walker = _Walker(records, tree)
    tree.root = walker.visit(root, None, ())
    tree.findings += _limit_findings(tree)
    # A record reached twice repeats its findings; keep the first of each.
    unique: dict[tuple[str, str], Finding] = {}
    for finding in tree.findings:
        unique.setdefault((finding.code, finding.message), finding)
    tree.findings = list(unique.values())
    tree.redirect_chain = _redirect_chain(records, root)
    return tree


def _redirect_chain(
    records: dict[str, _Record], root: str
) -> list[tuple[str, SPFRecord]]:
    chain: list[tuple[str, SPFRecord]] = []
    entry = records.get(root)
    seen = {root}
    while entry is not None and entry.record is not None:
        redirect = next((t for t in entry.lookups if _is_redirect(t)), None)
        if redirect is None or redirect.target is None or redirect.target in seen:
            break
        seen.add(redirect.target)
        entry = records.get(redirect.target)
        if entry is not None and entry.record is not None:
            chain.append((redirect.target, entry.record))
    return chain


class _Walker:
    """A depth-first walk that builds the tree dicts and adds up the counts."""

    def __init__(self, records: dict[str, _Record], tree: SPFTree) -> None:
        self.records = records
        self.tree = tree
        self.nodes = 0
        self.seen_failures: set[tuple[str, str]] = set()

    def visit(
        self, name: str, via: TermLookup | None, path: tuple[str, ...]
    ) -> dict[str, Any]:
        self.nodes += 1
        entry = self.records.get(name)
        node = _node(name, via, entry)
        if entry is None:
            self.tree.truncated = True
            return {**node, "status": "error", "error": "not followed: tree too large"}
        self._note_failed(entry.discovery.answer)
        node["status"], problem = _record_status(entry)
        if problem:
            node["error"] = problem
        if entry.record is None:
            return node
        names = path + (name, entry.discovery.answer.canonical_name)
        node["children"] = self._visit_terms(entry, names, node)
        return node

    def _visit_terms(
        self, entry: _Record, path: tuple[str, ...], node: dict[str, Any]
    ) -> list[dict[str, Any]]:
        children = []
        for lookup in entry.lookups:
            node["lookups"] += 1
            self.tree.dns_lookups += 1
            for answer in lookup.failed:
                self._note_failed(answer)
            if lookup.outcome == "failed":
                node["status"] = "failed"
            if lookup.outcome == "void":
                self._count_void(node, entry.discovery.name, lookup.text)
            if lookup.mx_hosts > MX_LIMIT:
                self.tree.findings.append(_mx_limit(entry, lookup))
            if lookup.outcome == "follow" and lookup.target is not None:
                children.append(self._visit_target(entry, lookup, path, node))
        return children

    def _visit_target(
        self,
        parent: _Record,
        lookup: TermLookup,
        path: tuple[str, ...],
        parent_node: dict[str, Any],
    ) -> dict[str, Any]:
        assert lookup.target is not None
        target = lookup.target
        if target in path:
            self.tree.findings.append(_loop(parent, lookup))
            return {**_node(target, lookup, None), "status": "loop"}
        if self.nodes >= MAX_TREE_NODES:
            self.tree.truncated = True
            return {
                **_node(target, lookup, None),
                "status": "error",
                "error": "not followed: tree too large",
            }
        child = self.records.get(target)
        if child is not None and child.discovery.answer.void:
            self._count_void(parent_node, parent.discovery.name, lookup.text)
        node = self.visit(target, lookup, path)
        if child is not None:
            self.tree.findings += _target_findings(parent, lookup, child)
        return node

    def _count_void(self, node: dict[str, Any], domain: str, term: str) -> None:
        node["void_lookups"] += 1
        self.tree.void_lookups += 1
        self.tree.void_terms.append(f"{domain}: {term}")

    def _note_failed(self, answer: Answer) -> None:
        key = (answer.name, answer.rdtype)
        if answer.failed and key not in self.seen_failures:
            self.seen_failures.add(key)
            self.tree.failed.append(answer)


def _node(name: str, via: TermLookup | None, entry: _Record | None) -> dict[str, Any]:
    return {
        "domain": name,
        "term": via.text if via is not None else None,
        "record": entry.discovery.text if entry is not None else None,
        "status": "ok",
        "lookups": 0,
        "void_lookups": 0,
        "children": [],
    }


def _record_status(entry: _Record) -> tuple[str, str | None]:
    status = entry.discovery.status
    if status == "failed":
        return "failed", entry.discovery.answer.describe()
    if status in ("none", "nodata", "nxdomain"):
        return "none", entry.discovery.answer.describe()
    if status == "multiple":
        return "error", f"{len(entry.discovery.records)} SPF records"
    assert entry.record is not None
    if not entry.record.valid:
        return "error", "syntax error"
    return "ok", None


def _is_redirect(lookup: TermLookup) -> bool:
    return isinstance(lookup.term, Modifier)


def _target_findings(
    parent: _Record, lookup: TermLookup, child: _Record
) -> list[Finding]:
    where = f"{parent.discovery.name} TXT"
    status = child.discovery.status
    target = lookup.target
    if status in ("none", "nodata", "nxdomain"):
        declared = SPF_REDIRECT_MISSING if _is_redirect(lookup) else SPF_INCLUDE_MISSING
        return [
            declared.finding(
                f"The SPF term {lookup.text!r} at {parent.discovery.name} names "
                f"{target}, which has no SPF record "
                f"({child.discovery.answer.describe()}); receivers return permerror.",
                evidence=parent.discovery.text,
                location=where,
            )
        ]
    if status == "multiple" or (child.record is not None and not child.record.valid):
        fault = "several SPF records" if status == "multiple" else "a syntax error"
        return [
            SPF_TARGET_INVALID.finding(
                f"The SPF term {lookup.text!r} at {parent.discovery.name} names "
                f"{target}, whose SPF record has {fault}; receivers return permerror.",
                evidence=child.discovery.text or parent.discovery.text,
                location=f"{target} TXT",
            )
        ]
    if child.record is not None and not _is_redirect(lookup):
        passing = plus_all_term(child.record)
        if (
            passing is not None
            and isinstance(lookup.term, Mechanism)
            and (lookup.term.result == "+")
        ):
            return [
                SPF_PLUS_ALL.finding(
                    f"The SPF term {lookup.text!r} at {parent.discovery.name} "
                    f"authorises every host, because {target} ends in "
                    f"{passing.to_text()!r}.",
                    evidence=child.discovery.text,
                    location=f"{target} TXT",
                )
            ]
    return []


def _loop(parent: _Record, lookup: TermLookup) -> Finding:
    declared = SPF_REDIRECT_LOOP if _is_redirect(lookup) else SPF_INCLUDE_LOOP
    return declared.finding(
        f"The SPF term {lookup.text!r} at {parent.discovery.name} leads back to "
        f"{lookup.target}, which is already being evaluated.",
        evidence=parent.discovery.text,
        location=f"{parent.discovery.name} TXT",
    )


def _mx_limit(entry: _Record, lookup: TermLookup) -> Finding:
    return SPF_MX_LIMIT.finding(
        f"The SPF term {lookup.text!r} at {entry.discovery.name} names "
        f"{lookup.target}, which has {lookup.mx_hosts} MX hosts; receivers "
        f"return permerror past {MX_LIMIT}.",
        evidence=entry.discovery.text,
        location=f"{lookup.target} MX",
    )


def _limit_findings(tree: SPFTree) -> list[Finding]:
    findings = []
    at_least = "at least " if tree.truncated else ""
    if tree.truncated:
        findings.append(
            SPF_TREE_TRUNCATED.finding(
                f"The SPF include tree has more than {MAX_TREE_NODES} records or "
                f"{MAX_RECORDS} distinct targets, so the audit stopped following it.",
            )
        )
    if tree.dns_lookups > LOOKUP_LIMIT:
        findings.append(
            SPF_LOOKUP_LIMIT.finding(
                f"The SPF record needs {at_least}{tree.dns_lookups} of "
                f"{LOOKUP_LIMIT} permitted DNS lookups over its include and "
                "redirect tree; receivers return permerror.",
            )
        )
    if tree.void_lookups > VOID_LIMIT:
        findings.append(
            SPF_VOID_LIMIT.finding(
                f"The SPF record has {tree.void_lookups} of {VOID_LIMIT} permitted "
                "void lookups (NXDOMAIN or no records): "
                + "; ".join(tree.void_terms)
                + ". Receivers return permerror.",
            )
        )
    return findings
