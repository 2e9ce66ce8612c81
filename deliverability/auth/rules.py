"""Finding codes of message authentication: the verdict and the key check."""

from __future__ import annotations

from ..findings import Severity, rule

__all__ = [
    "DKIM_FAILED",
    "DKIM_IGNORED",
    "DKIM_MISSING",
    "DKIM_UNALIGNED",
    "DMARC_FAILED",
    "DMARC_MISSING",
    "FROM_INVALID",
    "INCOMPLETE",
    "IPREV_FAILED",
    "KEY_LOOKUP_FAILED",
    "KEY_MISMATCH",
    "KEY_RECORD_MISSING",
    "KEY_REVOKED",
    "ONE_CLICK_MISSING",
    "ONE_CLICK_UNSIGNED",
    "SPF_FAILED",
    "SPF_IPV6_FRAGILE",
]

DMARC_FAILED = rule(
    "auth.dmarc_fail",
    "auth",
    Severity.ERROR,
    "DMARC does not pass",
    fix=(
        "Sign with a DKIM key whose d= is the From domain (or its organizational "
        "domain), or send from an IP the Return-Path domain's SPF record allows "
        "with that domain aligned to From."
    ),
    reference="RFC 7489, section 6.6.2",
)
DMARC_MISSING = rule(
    "auth.dmarc_none",
    "auth",
    Severity.ERROR,
    "No DMARC policy applies to the From domain",
    fix=(
        'Publish a TXT record at _dmarc.DOMAIN such as "v=DMARC1; p=none; '
        'rua=mailto:dmarc@DOMAIN", then move to p=quarantine or p=reject.'
    ),
    reference="RFC 7489, section 6.6.3",
)
DKIM_MISSING = rule(
    "auth.dkim_missing",
    "auth",
    Severity.ERROR,
    "The message has no DKIM signature",
    fix="Sign outgoing mail with a DKIM key of the From domain (deliverability sign).",
    reference="RFC 6376, section 3.5",
)
DKIM_FAILED = rule(
    "auth.dkim_fail",
    "auth",
    Severity.ERROR,
    "A DKIM signature does not verify",
    fix=(
        "Check that the published key record matches the signing key "
        "(deliverability keycheck) and that nothing changes the message after "
        "signing (footers, line wrapping, header rewriting)."
    ),
    reference="RFC 6376, section 6.1",
)
DKIM_IGNORED = rule(
    "auth.dkim_ignored",
    "auth",
    Severity.WARNING,
    "The message carries more DKIM signatures than a verifier checks",
    fix=(
        "Sign with one to three keys and remove stale DKIM-Signature fields "
        "before signing again; verifiers ignore signatures past a limit."
    ),
    reference="RFC 6376, section 6.1",
)
DKIM_UNALIGNED = rule(
    "auth.dkim_unaligned",
    "auth",
    Severity.WARNING,
    "No valid DKIM signature is aligned with the From domain",
    fix="Sign with d= set to the From domain or its organizational domain.",
    reference="RFC 7489, section 3.1.1",
)
SPF_FAILED = rule(
    "auth.spf_fail",
    "auth",
    Severity.WARNING,
    "SPF does not pass for the sending IP",
    fix=(
        "Add the sending IP or its provider's include: to the SPF record of the "
        "MAIL FROM domain, and keep the record within 10 DNS lookups."
    ),
    reference="RFC 7208, section 2.6",
)
SPF_IPV6_FRAGILE = rule(
    "auth.spf_ipv6_fragile",
    "auth",
    Severity.WARNING,
    "The SPF record is fragile for IPv6 senders",
    fix=(
        "List the IPv6 networks of the sending hosts with ip6: mechanisms, or "
        "give the hosts named by a and mx AAAA records; each host without one "
        "costs a void lookup, and a third makes SPF permerror."
    ),
    reference="RFC 7208, section 4.6.4",
)
IPREV_FAILED = rule(
    "auth.iprev_fail",
    "auth",
    Severity.WARNING,
    "The sending IP has no forward-confirmed reverse DNS",
    fix=(
        "Ask the owner of the IP range for a PTR record naming a host whose "
        "A or AAAA record points back to the IP."
    ),
    reference="RFC 8601, section 3",
)
FROM_INVALID = rule(
    "auth.from_invalid",
    "auth",
    Severity.ERROR,
    "The From header gives no single author domain",
    fix=(
        "Send exactly one From field holding an address with a domain, "
        'such as From: "Example News" <news@example.com>.'
    ),
    reference="RFC 7489, section 6.6.1",
)
ONE_CLICK_MISSING = rule(
    "auth.one_click_missing",
    "auth",
    Severity.ERROR,
    "One-click unsubscription headers are missing",
    fix=(
        "Add List-Unsubscribe with an https URI and "
        "List-Unsubscribe-Post: List-Unsubscribe=One-Click to bulk mail."
    ),
    reference="RFC 8058, section 3.1",
)
ONE_CLICK_UNSIGNED = rule(
    "auth.one_click_unsigned",
    "auth",
    Severity.ERROR,
    "One-click unsubscription headers are not covered by a valid DKIM signature",
    fix=(
        "List List-Unsubscribe and List-Unsubscribe-Post in h= of the DKIM "
        "signature (deliverability sign covers them)."
    ),
    reference="RFC 8058, section 4",
)
INCOMPLETE = rule(
    "auth.incomplete",
    "auth",
    Severity.ERROR,
    "Authentication could not be completed",
    fix="Check that the nameservers answer, then verify again.",
    reference="RFC 8601, section 2.7",
)
KEY_RECORD_MISSING = rule(
    "auth.key_record_missing",
    "auth",
    Severity.ERROR,
    "No DKIM key record is published for the selector",
    fix="Publish the TXT record that keygen printed at SELECTOR._domainkey.DOMAIN.",
    reference="RFC 6376, section 3.6.2.1",
)
KEY_REVOKED = rule(
    "auth.key_revoked",
    "auth",
    Severity.ERROR,
    "The DKIM key record of the selector is revoked",
    fix="Sign with the key of a current selector, or publish this key's record.",
    reference="RFC 6376, section 3.6.1",
)
KEY_MISMATCH = rule(
    "auth.key_mismatch",
    "auth",
    Severity.ERROR,
    "The private key does not match the published key record",
    fix=(
        "Publish the record of this private key (keygen prints it), or sign "
        "with the private key that belongs to the published record."
    ),
    reference="RFC 6376, section 3.6.1",
)
KEY_LOOKUP_FAILED = rule(
    "auth.key_lookup_failed",
    "auth",
    Severity.ERROR,
    "The DKIM key record could not be looked up",
    fix="Check that the domain's nameservers answer, then run the check again.",
    reference="RFC 6376, section 6.1.2",
)
