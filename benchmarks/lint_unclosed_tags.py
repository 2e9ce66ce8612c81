"""Time the HTML scan on start tags that never close, against a plain regex scan.

A start tag needs a ``>`` outside quoted values. A scan that tries every
``<`` with the token pattern alone runs over the rest of the source for
each unclosed tag, so these inputs take quadratic time there.
``TokenFinder`` reads them in linear time. The script prints both times
and their ratio for each input.

Usage::

    python benchmarks/lint_unclosed_tags.py [--repeat 20000]
"""

from __future__ import annotations

import argparse
import re
import sys
import time

from deliverability.lint.htmlscan import scan_html
from deliverability.lint.tokenizer import TOKEN_PATTERN

# The token pattern without the "broken" alternative: what the regex engine
# alone would apply.
_PLAIN = re.compile(
    TOKEN_PATTERN.pattern.replace("(?:>|(?P<broken>))", ">"), re.S | re.X
)


def inputs(repeat: int) -> dict[str, str]:
    """Return the adversarial sources by name."""
    return {
        "no > at all": "<a x" * repeat,
        'quoted values, then ">': '<a t="x" ' * repeat + '">',
        'single quotes, then ">': "<a '" * repeat + '">',
        "mixed, then '>": "<p a=\"1\" b='2' c=3 " * (repeat // 2) + "'>",
    }


def plain_scan(source: str) -> int:
    """Count the tokens the plain pattern finds, trying every ``<``."""
    count = 0
    position = 0
    while True:
        match = _PLAIN.search(source, position)
        if match is None:
            return count
        count += 1
        position = match.end()


def seconds(function: object, source: str) -> float:
    started = time.process_time()
    function(source)  # type: ignore[operator]
    return time.process_time() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--repeat",
        type=int,
        default=20000,
        help="copies of the repeated fragment (default: 20000)",
    )
    args = parser.parse_args()
    print(f"{'input':28} {'chars':>8} {'plain s':>9} {'scan_html s':>12} {'ratio':>8}")
    for name, source in inputs(args.repeat).items():
        plain = seconds(plain_scan, source)
        ours = seconds(scan_html, source)
        ratio = plain / ours if ours else float("inf")
        print(f"{name:28} {len(source):8} {plain:9.3f} {ours:12.4f} {ratio:8.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
