"""Print checkdmarc's SPF lookup counts for domains, as one JSON object.

Run inside a network namespace where Knot answers on 127.0.0.2 port 53
(``tests.knot.run_in_netns``)::

    python3 -m tests.integration.checkdmarc_spf DOMAIN ...

Output: ``{domain: {"dns_lookups": int | null, "void_dns_lookups": int | null,
"error": str | null}}``. checkdmarc leaves a count out when the SPF check
stopped with an error before it finished counting; that prints as null.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import checkdmarc.spf

__all__ = ["spf_counts"]

NAMESERVERS = ["127.0.0.2"]
TIMEOUT = 1.0


def spf_counts(domain: str) -> dict[str, Any]:
    """Return checkdmarc's lookup and void lookup counts for ``domain``."""
    result = checkdmarc.spf.check_spf(
        domain, nameservers=NAMESERVERS, timeout=TIMEOUT, retries=0
    )
    return {
        "dns_lookups": result.get("dns_lookups"),
        "void_dns_lookups": result.get("void_dns_lookups"),
        "error": result.get("error"),
    }


def main(domains: list[str]) -> int:
    """Print the counts of every domain as JSON; return 0."""
    print(json.dumps({domain: spf_counts(domain) for domain in domains}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
