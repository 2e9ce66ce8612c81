"""Client support of HTML and CSS features, from a reduced copy of the caniemail data.

The data file ``data/caniemail.json`` is reduced from ``data/caniemail.json``
of the npm package ``caniemail`` 2.0.2 (MIT), which packages the data of
caniemail.com (github.com/hteumeuleu/caniemail, MIT, (c) 2019
HTeuMeuLeu). ``data/NOTICE`` carries both licences. Regenerate with::

    python -m deliverability.lint.caniemail PATH/TO/caniemail.json

Each client keeps only its newest tested version, since old versions rarely
matter to a campaign sent today.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

__all__ = [
    "KEPT_CLIENTS",
    "Feature",
    "Support",
    "feature",
    "load_features",
    "reduce_dataset",
]

KEPT_CLIENTS = (
    "gmail.desktop-webmail",
    "gmail.ios",
    "gmail.android",
    "gmail.mobile-webmail",
    "outlook.windows",
    "outlook.windows-mail",
    "outlook.outlook-com",
    "outlook.macos",
    "outlook.ios",
    "outlook.android",
    "apple-mail.macos",
    "apple-mail.ios",
    "yahoo.desktop-webmail",
    "yahoo.ios",
    "yahoo.android",
    "samsung-email.android",
    "thunderbird.macos",
    "aol.desktop-webmail",
)
"""Clients kept in the packaged copy, as ``family.platform``."""


@dataclass(frozen=True, slots=True)
class Support:
    """One client's support of a feature in its newest tested version."""

    client: str
    version: str
    code: str
    """``y`` supported, ``a`` partial, ``n`` not supported, ``u`` unknown."""
    notes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Feature:
    """A caniemail feature with its support per kept client."""

    slug: str
    title: str
    url: str
    support: dict[str, Support]


def reduce_dataset(raw: dict[str, Any]) -> dict[str, Any]:
    """Reduce the full caniemail JSON to the kept clients' newest versions."""
    names = raw.get("nicenames", {})
    clients = {client: _client_name(client, names) for client in KEPT_CLIENTS}
    features: dict[str, Any] = {}
    for item in raw.get("data", []):
        support, notes = _reduce_stats(item)
        features[item["slug"]] = {
            "title": item.get("title", item["slug"]),
            "url": item.get("url", ""),
            "support": support,
            "notes": notes,
        }
    return {
        "source": "npm package caniemail 2.0.2 (MIT), data of caniemail.com (MIT)",
        "last_update_date": raw.get("last_update_date"),
        "clients": clients,
        "features": features,
    }


def _client_name(client: str, names: dict[str, Any]) -> str:
    family, platform = client.split(".", 1)
    family_name = names.get("family", {}).get(family, family)
    platform_name = names.get("platform", {}).get(platform, platform)
    return f"{family_name} {platform_name}"


def _reduce_stats(item: dict[str, Any]) -> tuple[dict[str, list[str]], dict[str, str]]:
    support: dict[str, list[str]] = {}
    used_notes: set[str] = set()
    stats = item.get("stats", {})
    for client in KEPT_CLIENTS:
        family, platform = client.split(".", 1)
        versions = stats.get(family, {}).get(platform)
        if not versions:
            continue
        version, value = list(versions.items())[-1]  # newest: the data is in test order
        support[client] = [version, str(value)]
        used_notes.update(token[1:] for token in str(value).split() if token[0] == "#")
    all_notes = item.get("notes_by_num") or {}
    notes = {key: all_notes[key] for key in sorted(used_notes) if key in all_notes}
    return support, notes


@lru_cache(maxsize=1)
def load_features() -> dict[str, Feature]:
    """Load the packaged caniemail copy, keyed by feature slug."""
    text = (
        resources.files(__package__)
        .joinpath("data/caniemail.json")
        .read_text(encoding="utf-8")
    )
    data = json.loads(text)
    features: dict[str, Feature] = {}
    for slug, item in data["features"].items():
        notes = item.get("notes", {})
        support = {}
        for client, (version, value) in item["support"].items():
            tokens = value.split()
            code = tokens[0] if tokens else "u"
            texts = tuple(notes.get(t[1:], "") for t in tokens[1:] if t.startswith("#"))
            support[client] = Support(client, version, code, texts)
        features[slug] = Feature(slug, item["title"], item["url"], support)
    return features


@lru_cache(maxsize=1)
def client_names() -> dict[str, str]:
    """Return readable names of the kept clients, such as ``Outlook Windows``."""
    text = (
        resources.files(__package__)
        .joinpath("data/caniemail.json")
        .read_text(encoding="utf-8")
    )
    names: dict[str, str] = json.loads(text)["clients"]
    return names


def feature(slug: str) -> Feature | None:
    """Return the feature called ``slug``, or ``None`` when caniemail has none."""
    return load_features().get(slug)


def main(argv: list[str]) -> int:
    """Write the reduced copy from the npm package's full JSON file."""
    if len(argv) != 1:
        print(
            "usage: python -m deliverability.lint.caniemail FULL.json", file=sys.stderr
        )
        return 2
    raw = json.loads(Path(argv[0]).read_text(encoding="utf-8"))
    target = Path(__file__).with_name("data") / "caniemail.json"
    reduced = reduce_dataset(raw)
    target.write_text(
        json.dumps(reduced, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        + "\n",
        encoding="utf-8",
    )
    print(f"wrote {len(reduced['features'])} features to {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
