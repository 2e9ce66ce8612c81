"""DMARC policy record syntax: a pure parser with no DNS.

:meth:`DMARCRecord.from_text` reads one TXT record as RFC 9989, section 4.7
defines it (the tag-value syntax of RFC 6376, section 3.2, with tag names
and keyword values case-insensitive as ABNF literals are) and RFC 7489,
section 6.3 defined it before. It never raises: every fault becomes a
finding on the returned record, so the audit can name the tag at fault.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ..dns.names import normalize_domain
from ..errors import InvalidDomainError
from ..findings import Finding, Severity, rule

__all__ = [
    "DEFAULTS",
    "DMARCRecord",
    "DMARC_DUPLICATE_TAG",
    "DMARC_FO_CONFLICT",
    "DMARC_FO_WITHOUT_RUF",
    "DMARC_INVALID_REMOVED_TAG",
    "DMARC_INVALID_URI",
    "DMARC_INVALID_VALUE",
    "DMARC_INVALID_VERSION",
    "DMARC_MISSING_P",
    "DMARC_NON_MAILTO_URI",
    "DMARC_REMOVED_TAG",
    "DMARC_REPORT_SIZE",
    "DMARC_SYNTAX",
    "DMARC_TOO_MANY_URIS",
    "DMARC_UNKNOWN_TAG",
    "POLICY_KEYS",
    "POLICY_VALUES",
    "ReportURI",
    "is_dmarc_record",
    "looks_like_dmarc_record",
]

_REF_9989 = "RFC 9989, section 4.7"

DMARC_INVALID_VERSION = rule(
    "dmarc.invalid_version",
    "dmarc",
    Severity.ERROR,
    "DMARC record does not start with v=DMARC1",
    fix=(
        "Start the record with exactly v=DMARC1 (upper-case DMARC1, no space "
        "before it) followed by a semicolon; receivers ignore any other record."
    ),
    reference="RFC 9989, section 4.7",
)
DMARC_SYNTAX = rule(
    "dmarc.syntax",
    "dmarc",
    Severity.ERROR,
    "DMARC record has a syntax error",
    fix=(
        "Write each tag as name=value, separate tags with semicolons, and use "
        "only printable ASCII in values."
    ),
    reference="RFC 9989, section 4.8",
)
DMARC_DUPLICATE_TAG = rule(
    "dmarc.duplicate_tag",
    "dmarc",
    Severity.ERROR,
    "DMARC record repeats a tag",
    fix="Keep one copy of the tag, because a tag-list with a repeated tag is invalid.",
    reference="RFC 6376, section 3.2",
)
DMARC_UNKNOWN_TAG = rule(
    "dmarc.unknown_tag",
    "dmarc",
    Severity.INFO,
    "DMARC record has a tag receivers ignore",
    fix="Remove the tag or correct its spelling; unknown tags are ignored.",
    reference=_REF_9989,
)
DMARC_INVALID_VALUE = rule(
    "dmarc.invalid_tag_value",
    "dmarc",
    Severity.ERROR,
    "DMARC tag has an invalid value",
    fix="Give the tag one of the values the message lists.",
    reference="RFC 9989, section 4.8",
)
DMARC_MISSING_P = rule(
    "dmarc.missing_p",
    "dmarc",
    Severity.WARNING,
    "DMARC record has no p tag",
    fix=(
        "Add p=none, p=quarantine or p=reject right after v=DMARC1; RFC 7489 "
        "receivers ignore a record without p."
    ),
    reference="RFC 9989, section 4.10.1; RFC 7489, section 6.3",
)
DMARC_REMOVED_TAG = rule(
    "dmarc.removed_tag",
    "dmarc",
    Severity.INFO,
    "DMARC record uses a tag that RFC 9989 removed",
    fix=(
        "Remove pct, rf and ri once RFC 7489 receivers no longer matter; to "
        "test a policy use t=y instead of pct=0."
    ),
    reference="RFC 9989, section 4.7; RFC 7489, section 6.3",
)
DMARC_INVALID_REMOVED_TAG = rule(
    "dmarc.invalid_removed_tag",
    "dmarc",
    Severity.WARNING,
    "DMARC record has an invalid value in a removed tag",
    fix=(
        "Correct the value (pct 0 to 100, rf=afrf, ri a number of seconds) or "
        "remove the tag; RFC 9989 receivers ignore it either way."
    ),
    reference="RFC 7489, section 6.3",
)
DMARC_INVALID_URI = rule(
    "dmarc.invalid_uri",
    "dmarc",
    Severity.ERROR,
    "DMARC report URI is invalid",
    fix=(
        "Write each report address as a URI such as mailto:dmarc@example.com, "
        "separated by commas; commas and ! inside a URI must be percent-encoded."
    ),
    reference="RFC 9989, section 4.8; RFC 3986, section 3",
)
DMARC_NON_MAILTO_URI = rule(
    "dmarc.non_mailto_uri",
    "dmarc",
    Severity.WARNING,
    "DMARC report URI is not a mailto URI",
    fix=(
        "Use a mailto: URI; receivers must support mailto and ignore schemes "
        "they do not support."
    ),
    reference="RFC 9989, section 4.7",
)
DMARC_TOO_MANY_URIS = rule(
    "dmarc.too_many_uris",
    "dmarc",
    Severity.WARNING,
    "DMARC tag lists more than two report URIs",
    fix=(
        "List at most two URIs, because receivers must support only two; "
        "forward reports from one address to more places instead."
    ),
    reference="RFC 7489, section 6.2",
)
DMARC_REPORT_SIZE = rule(
    "dmarc.report_size",
    "dmarc",
    Severity.INFO,
    "DMARC report URI has a size limit suffix",
    fix="Remove the !size suffix; RFC 9989 made it obsolete and reporters ignore it.",
    reference="RFC 9989, section 4.8",
)
DMARC_FO_CONFLICT = rule(
    "dmarc.fo_conflict",
    "dmarc",
    Severity.WARNING,
    "DMARC fo tag lists both 0 and 1",
    fix="Keep either 0 (report when all mechanisms fail) or 1 (when any fails).",
    reference="RFC 9989, section 4.8",
)
DMARC_FO_WITHOUT_RUF = rule(
    "dmarc.fo_without_ruf",
    "dmarc",
    Severity.INFO,
    "DMARC fo tag has no effect without ruf",
    fix="Remove fo, or add a ruf tag if you want failure reports.",
    reference=_REF_9989,
)

#: Keys of the ``policy`` and ``effective`` dictionaries, in report order.
POLICY_KEYS = (
    "p",
    "sp",
    "np",
    "adkim",
    "aspf",
    "pct",
    "t",
    "psd",
    "fo",
    "rua",
    "ruf",
)
#: Allowed values of p, sp and np, weakest first.
POLICY_VALUES = ("none", "quarantine", "reject")
#: Values the receiver assumes for tags that are absent (RFC 9989, section 4.7;
#: pct from RFC 7489). p, sp and np inherit from each other instead.
DEFAULTS: dict[str, Any] = {
    "adkim": "r",
    "aspf": "r",
    "pct": 100,
    "t": "n",
    "psd": "u",
    "fo": "0",
    "rua": [],
    "ruf": [],
}

_KEYWORD_VALUES = {
    "p": POLICY_VALUES,
    "sp": POLICY_VALUES,
    "np": POLICY_VALUES,
    "adkim": ("r", "s"),
    "aspf": ("r", "s"),
    "t": ("y", "n"),
    "psd": ("y", "n", "u"),
}
_KNOWN_TAGS = frozenset(_KEYWORD_VALUES) | {"v", "fo", "rua", "ruf"}
_REMOVED_TAGS = frozenset({"pct", "rf", "ri"})
_MAX_LISTED_URIS = 2

_VERSION = re.compile(r"[vV][ \t]*=[ \t]*DMARC1[ \t]*(?:;|\Z)")
_NEAR_VERSION = re.compile(r"\s*v\s*=\s*dmarc", re.IGNORECASE)
_TAG_NAME = re.compile(r"[A-Za-z]+")
_VALUE_CHARS = re.compile(r"[\x20-\x3a\x3c-\x7e]+")
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):(.+)", re.DOTALL)
_SIZE = re.compile(r"!([0-9]+[kmgtKMGT]?)\Z")
_URI_CHARS = re.compile(r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+;=%]+")
_LOCAL_PART = re.compile(r"[A-Za-z0-9!#$&'*+\-/=?^_`{|}~.%]+")
_WSP = " \t"


def is_dmarc_record(text: str) -> bool:
    """Return whether ``text`` starts with the version tag ``v=DMARC1``.

    Receivers discard every other TXT record at ``_dmarc`` (RFC 9989,
    section 4.10). The tag name is case-insensitive, the value is not, and
    whitespace may surround the equals sign but may not lead the record.
    """
    return _VERSION.match(text) is not None


def looks_like_dmarc_record(text: str) -> bool:
    """Return whether ``text`` was probably meant as a DMARC record.

    True for records such as `` v=DMARC1`` or ``v=dmarc1`` that
    :func:`is_dmarc_record` rejects, so the audit can point at the fault.
    """
    return _NEAR_VERSION.match(text) is not None


@dataclass(frozen=True, slots=True)
class ReportURI:
    """One URI of a ``rua`` or ``ruf`` tag."""

    text: str
    """The URI as published, with any ``!size`` suffix."""
    scheme: str | None
    """The URI scheme in lower case, or ``None`` when the text has none."""
    address: str | None = None
    """For ``mailto``: the address, percent-decoding left undone."""
    domain: str | None = None
    """For ``mailto``: the address's domain as lower-case A-labels."""
    size: str | None = None
    """The obsolete size limit after ``!``, e.g. ``10m``."""
    error: str | None = None
    """The reason the URI is invalid; ``None`` for a valid URI."""

    @property
    def valid(self) -> bool:
        """Whether the URI parsed without a fault."""
        return self.error is None

    @classmethod
    def from_text(cls, text: str) -> ReportURI:
        """Parse one URI; a fault is recorded in :attr:`error`, never raised."""
        body = text
        size_match = _SIZE.search(body)
        size = size_match.group(1) if size_match else None
        if size_match:
            body = body[: size_match.start()]
        scheme_match = _SCHEME.fullmatch(body)
        if scheme_match is None:
            return cls(
                text, None, size=size, error="it has no URI scheme such as mailto:"
            )
        scheme = scheme_match.group(1).lower()
        rest = scheme_match.group(2)
        if _URI_CHARS.fullmatch(body) is None:
            return cls(
                text, scheme, size=size, error="it contains characters a URI may not"
            )
        if "!" in rest:
            return cls(
                text,
                scheme,
                size=size,
                error="an ! inside a URI must be encoded as %21",
            )
        if scheme != "mailto":
            return cls(text, scheme, size=size)
        return _parse_mailto(text, rest, size)


def _parse_mailto(text: str, rest: str, size: str | None) -> ReportURI:
    address = rest.split("?", 1)[0]
    local, at, host = address.rpartition("@")
    if not at or not local or not host:
        return ReportURI(
            text, "mailto", size=size, error="the mailto URI has no address"
        )
    if _LOCAL_PART.fullmatch(local) is None:
        return ReportURI(
            text,
            "mailto",
            address,
            size=size,
            error=f"the local part {local!r} is not valid in an address",
        )
    try:
        domain = normalize_domain(host, allow_underscore=False)
    except InvalidDomainError as exc:
        return ReportURI(text, "mailto", address, size=size, error=exc.reason)
    if "." not in domain:
        return ReportURI(
            text,
            "mailto",
            address,
            size=size,
            error=f"the domain {host!r} is not a fully qualified domain name",
        )
    return ReportURI(text, "mailto", address, domain, size)


@dataclass(frozen=True, slots=True)
class _Tag:
    name: str
    """Lower-case tag name."""
    value: str
    """The value with surrounding whitespace removed."""


@dataclass(frozen=True, slots=True)
class DMARCRecord:
    """A parsed DMARC policy record and the faults found in its text.

    Keyword values that are valid (``p``, ``sp``, ``np``, ``adkim``,
    ``aspf``, ``t``, ``psd``) are stored in lower case. Invalid ones are kept
    as published and named in :attr:`invalid`.
    """

    text: str
    tags: tuple[tuple[str, str], ...]
    """Every well-formed tag in order: lower-case name and trimmed value."""
    findings: tuple[Finding, ...]
    version_ok: bool
    """False when the text does not start with ``v=DMARC1``."""
    duplicates: frozenset[str]
    invalid: frozenset[str]
    """Names of known tags whose values are invalid."""
    rua: tuple[ReportURI, ...] = ()
    ruf: tuple[ReportURI, ...] = ()

    @classmethod
    def from_text(cls, text: str, *, location: str | None = None) -> DMARCRecord:
        """Parse ``text``; never raises, whatever the input.

        ``location`` (e.g. ``_dmarc.example.com``) is set on each finding.
        """
        return _Parser(text, location).parse()

    def to_text(self) -> str:
        """Return the record as ``v=DMARC1; name=value; ...`` in tag order."""
        parts = [f"{name}={value}" for name, value in self.tags if name != "v"]
        return "; ".join(["v=DMARC1", *parts])

    def get(self, name: str) -> str | None:
        """Return the value of tag ``name`` (lower case), or ``None`` if absent."""
        for tag, value in self.tags:
            if tag == name:
                return value
        return None

    def valid_value(self, name: str) -> str | None:
        """Return the tag's value, or ``None`` when it is absent or invalid."""
        if name in self.invalid:
            return None
        return self.get(name)

    @property
    def valid(self) -> bool:
        """Whether receivers read the record at all (version and tag-list)."""
        return self.version_ok and not self.duplicates

    @property
    def pct(self) -> int | None:
        """The RFC 7489 percentage, or ``None`` when absent or invalid."""
        value = self.get("pct")
        if value is None or not value.isdigit() or int(value) > 100:
            return None
        return int(value)

    @property
    def has_valid_rua(self) -> bool:
        """Whether ``rua`` contains at least one valid URI."""
        return any(uri.valid for uri in self.rua)

    def policy_applies(self) -> bool:
        """Whether p, sp and np are all usable (RFC 9989, section 4.10.1).

        When they are not, receivers act as if p=none if rua contains a valid
        URI, and otherwise apply no DMARC policy at all.
        """
        return (
            self.valid
            and self.get("p") is not None
            and not {"p", "sp", "np"} & self.invalid
        )

    def published(self) -> dict[str, Any]:
        """Return the policy tags as published, ``None`` for absent ones."""
        data: dict[str, Any] = {key: self.get(key) for key in POLICY_KEYS}
        data["pct"] = self.pct
        data["rua"] = [uri.text for uri in self.rua]
        data["ruf"] = [uri.text for uri in self.ruf]
        return data

    def effective(self) -> dict[str, Any]:
        """Return the policy a receiver applies, defaults filled in.

        ``p``, ``sp`` and ``np`` are ``None`` when receivers apply no policy.
        """
        data: dict[str, Any] = {}
        for key in POLICY_KEYS:
            value = self.valid_value(key) if self.valid else None
            data[key] = DEFAULTS.get(key) if value is None else value
        data["pct"] = self.pct if self.pct is not None else DEFAULTS["pct"]
        data["rua"] = [uri.text for uri in self.rua if uri.valid]
        data["ruf"] = [uri.text for uri in self.ruf if uri.valid]
        p, sp, np = _effective_policies(self)
        data.update(p=p, sp=sp, np=np)
        return data


def _effective_policies(
    record: DMARCRecord,
) -> tuple[str | None, str | None, str | None]:
    if record.policy_applies():
        p = record.get("p")
        sp = record.get("sp") or p
        return p, sp, record.get("np") or sp
    if record.valid and record.has_valid_rua:
        return "none", "none", "none"
    return None, None, None


class _Parser:
    """One parse of one record, which collects findings as it goes."""

    def __init__(self, text: str, location: str | None) -> None:
        self.text = text
        self.location = location
        self.findings: list[Finding] = []
        self.tags: list[_Tag] = []
        self.duplicates: set[str] = set()
        self.invalid: set[str] = set()
        self.rua: tuple[ReportURI, ...] = ()
        self.ruf: tuple[ReportURI, ...] = ()

    def add(self, finding_rule: Any, message: str) -> None:
        self.findings.append(
            finding_rule.finding(message, evidence=self.text, location=self.location)
        )

    def parse(self) -> DMARCRecord:
        version_ok = is_dmarc_record(self.text)
        if not version_ok:
            self.add(DMARC_INVALID_VERSION, _version_message(self.text))
        else:
            self._split_tags()
            self._check_tags()
        return DMARCRecord(
            text=self.text,
            tags=tuple((tag.name, tag.value) for tag in self.tags),
            findings=tuple(self.findings),
            version_ok=version_ok,
            duplicates=frozenset(self.duplicates),
            invalid=frozenset(self.invalid),
            rua=self.rua,
            ruf=self.ruf,
        )

    def _split_tags(self) -> None:
        seen: set[str] = set()
        for index, part in enumerate(self.text.split(";")):
            spec = part.strip(_WSP)
            if not spec:
                continue  # a trailing or doubled semicolon carries no tag
            tag = self._read_tag(spec, first=index == 0)
            if tag is None:
                continue
            if tag.name in seen:
                self.duplicates.add(tag.name)
                self.add(
                    DMARC_DUPLICATE_TAG,
                    f"The tag {tag.name} appears more than once, so receivers "
                    "treat the whole record as invalid and apply no DMARC policy.",
                )
                continue
            seen.add(tag.name)
            self.tags.append(tag)

    def _read_tag(self, spec: str, *, first: bool) -> _Tag | None:
        name, equals, value = spec.partition("=")
        name = name.rstrip(_WSP)
        value = value.lstrip(_WSP)
        if not equals:
            self.add(
                DMARC_SYNTAX,
                f"The part {_excerpt(spec)!r} has no '=' between a tag name and "
                "a value.",
            )
            return None
        if _TAG_NAME.fullmatch(name) is None:
            self.add(
                DMARC_SYNTAX,
                f"The tag name {name!r} in {spec!r} is not made of letters only.",
            )
            return None
        tag = _Tag(name.lower(), value)
        if first and tag.name == "v":
            return tag
        if tag.name == "v":
            self.add(
                DMARC_SYNTAX,
                "The tag v appears after the first position, where it has no "
                "meaning, because only the leading v=DMARC1 counts.",
            )
            return None
        if value and _VALUE_CHARS.fullmatch(value) is None:
            self.add(
                DMARC_SYNTAX,
                f"The value of {tag.name} contains characters other than "
                f"printable ASCII: {value!r}.",
            )
            self.invalid.add(tag.name)
        return tag

    def _check_tags(self) -> None:
        for tag in self.tags:
            if tag.name in _KEYWORD_VALUES:
                self._check_keyword(tag)
            elif tag.name == "fo":
                self._check_fo(tag)
            elif tag.name in ("rua", "ruf"):
                self._check_uris(tag)
            elif tag.name in _REMOVED_TAGS:
                self._check_removed(tag)
            elif tag.name not in _KNOWN_TAGS:
                self.add(
                    DMARC_UNKNOWN_TAG,
                    f"The tag {tag.name}={tag.value} is not a DMARC tag, so "
                    "receivers ignore it.",
                )
        self._check_p_present()
        if self._has("fo") and not self._has("ruf"):
            self.add(
                DMARC_FO_WITHOUT_RUF,
                "The record sets fo but has no ruf tag, so fo has no effect.",
            )

    def _has(self, name: str) -> bool:
        return any(tag.name == name for tag in self.tags)

    def _replace(self, name: str, value: str) -> None:
        self.tags = [_Tag(t.name, value) if t.name == name else t for t in self.tags]

    def _check_keyword(self, tag: _Tag) -> None:
        allowed = _KEYWORD_VALUES[tag.name]
        if tag.name in self.invalid:
            return  # already reported as a syntax error
        if tag.value.lower() in allowed:
            self._replace(tag.name, tag.value.lower())
            return
        self.invalid.add(tag.name)
        self.add(DMARC_INVALID_VALUE, _keyword_message(tag, allowed))

    def _check_fo(self, tag: _Tag) -> None:
        options = [item.strip(_WSP).lower() for item in tag.value.split(":")]
        unknown = [item for item in options if item not in ("0", "1", "d", "s")]
        if unknown or len(set(options)) != len(options):
            self.invalid.add("fo")
            self.add(
                DMARC_INVALID_VALUE,
                f"The fo tag has the invalid value {tag.value!r}; fo is a "
                "colon-separated list of 0 or 1, d and s, each at most once. "
                "Receivers use the default fo=0 instead.",
            )
        elif "0" in options and "1" in options:
            self.add(
                DMARC_FO_CONFLICT,
                f"The fo tag {tag.value!r} lists both 0 and 1: RFC 7489 allowed "
                "it, but RFC 9989 makes them exclusive, so receivers following "
                "RFC 9989 may use the default fo=0 instead.",
            )
        else:
            self._replace("fo", ":".join(options))

    def _check_uris(self, tag: _Tag) -> None:
        if not tag.value:
            self.invalid.add(tag.name)
            self.add(
                DMARC_INVALID_VALUE,
                f"The {tag.name} tag is empty; give at least one URI or remove "
                "the tag.",
            )
            return
        uris = tuple(
            ReportURI.from_text(item.strip(_WSP)) for item in tag.value.split(",")
        )
        if tag.name == "rua":
            self.rua = uris
        else:
            self.ruf = uris
        for uri in uris:
            self._check_uri(tag.name, uri)
        if len(uris) > _MAX_LISTED_URIS:
            self.add(
                DMARC_TOO_MANY_URIS,
                f"The {tag.name} tag lists {len(uris)} URIs; receivers must "
                f"support only {_MAX_LISTED_URIS} and may ignore the rest.",
            )

    def _check_uri(self, name: str, uri: ReportURI) -> None:
        if uri.error is not None:
            self.add(
                DMARC_INVALID_URI,
                f"The {name} URI {uri.text!r} is invalid: {uri.error}.",
            )
            return
        if uri.scheme != "mailto":
            self.add(
                DMARC_NON_MAILTO_URI,
                f"The {name} URI {uri.text!r} uses the {uri.scheme} scheme; "
                "receivers are required to support only mailto and ignore "
                "schemes they do not support.",
            )
        if uri.size is not None:
            self.add(
                DMARC_REPORT_SIZE,
                f"The {name} URI {uri.text!r} ends in the size limit !{uri.size}, "
                "which RFC 9989 made obsolete.",
            )

    def _check_removed(self, tag: _Tag) -> None:
        self.add(
            DMARC_REMOVED_TAG,
            f"The tag {tag.name}={tag.value} is defined by RFC 7489 only; "
            "RFC 9989 removed it, so receivers following RFC 9989 ignore it.",
        )
        problem = _removed_tag_problem(tag)
        if problem:
            self.add(DMARC_INVALID_REMOVED_TAG, problem)

    def _check_p_present(self) -> None:
        if self._has("p"):
            return
        rua = "rua has a valid URI, so RFC 9989 receivers act as if p=none"
        if not any(uri.valid for uri in self.rua):
            rua = "rua has no valid URI, so RFC 9989 receivers apply no DMARC policy"
        self.add(
            DMARC_MISSING_P,
            f"The record has no p tag: {rua}, and RFC 7489 receivers ignore "
            "the record.",
        )


def _version_message(text: str) -> str:
    if text[:1].isspace() and is_dmarc_record(text.lstrip()):
        return (
            "The record starts with whitespace before v=DMARC1, so receivers "
            "do not recognize it as a DMARC record."
        )
    head = text[:20]
    return (
        f"The record starts with {head!r} instead of v=DMARC1 (the value is "
        "case-sensitive), so receivers ignore it."
    )


def _keyword_message(tag: _Tag, allowed: tuple[str, ...]) -> str:
    choices = ", ".join(allowed[:-1]) + " or " + allowed[-1]
    message = (
        f"The {tag.name} tag has the invalid value {tag.value!r}; it must be {choices}."
    )
    if tag.name in ("p", "sp", "np"):
        message += (
            " Because of it, RFC 9989 receivers ignore the record's policy: they "
            "act as if p=none when rua contains a valid URI, and otherwise apply "
            "no DMARC policy."
        )
    return message


def _removed_tag_problem(tag: _Tag) -> str | None:
    if tag.name == "pct" and not (tag.value.isdigit() and int(tag.value) <= 100):
        return (
            f"The pct tag has the invalid value {tag.value!r}; RFC 7489 allows "
            "0 to 100."
        )
    if tag.name == "ri" and not tag.value.isdigit():
        return (
            f"The ri tag has the invalid value {tag.value!r}; RFC 7489 wants seconds."
        )
    if tag.name == "rf":
        formats = [item.strip(_WSP).lower() for item in tag.value.split(":")]
        if formats != ["afrf"]:
            return (
                f"The rf tag has the value {tag.value!r}; RFC 7489 defines only afrf."
            )
    return None


def _excerpt(text: str, limit: int = 80) -> str:
    """Cut ``text`` to ``limit`` characters, ending in "..." when it was longer."""
    return text if len(text) <= limit else text[: limit - 3] + "..."
