"""The confirm, unsubscribe and sign-up pages over real HTTP on loopback."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
import uvicorn

from deliverability.consent import (
    ConsentConfig,
    ConsentState,
    ConsentStore,
    DoubleOptIn,
    create_app,
)
from deliverability.consent.web import server_config

from .conftest import MemoryMailer
from .helpers import CONTEXT, link_token, prepare, signed_up


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class _Site:
    def __init__(self, flow: DoubleOptIn, mailer: MemoryMailer, base: str) -> None:
        self.flow = flow
        self.mailer = mailer
        self.base = base
        self.client = httpx.Client(base_url=base, timeout=10)

    def path(self, action: str, index: int = -1) -> str:
        return f"/{action}/{link_token(self.mailer.sent[index], action)}"


@pytest.fixture
def site(store: ConsentStore) -> Iterator[_Site]:
    """The app served by uvicorn on 127.0.0.1 in a thread."""
    prepare(store)
    mailer = MemoryMailer()
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    config = ConsentConfig(base_url=base, max_signups_per_ip=4)
    flow = DoubleOptIn(store, mailer, config=config)
    server = uvicorn.Server(
        server_config(create_app(flow), host="127.0.0.1", port=port)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.01)
    served = _Site(flow, mailer, base)
    try:
        yield served
    finally:
        served.client.close()
        server.should_exit = True
        thread.join(timeout=10)


def _state(site: _Site, address: str = "a@example.com") -> ConsentState:
    return site.flow.store.consent(address, "news").state


async def test_get_confirm_shows_button(site: _Site) -> None:
    await signed_up(site.flow, "a@example.com")
    page = site.client.get(site.path("confirm"))
    assert '<form method="post"' in page.text


async def test_get_confirm_changes_nothing(site: _Site) -> None:
    await signed_up(site.flow, "a@example.com")
    site.client.get(site.path("confirm"))
    assert _state(site) is ConsentState.PENDING


async def test_head_confirm_changes_nothing(site: _Site) -> None:
    await signed_up(site.flow, "a@example.com")
    site.client.head(site.path("confirm"))
    assert _state(site) is ConsentState.PENDING


async def test_post_confirm(site: _Site) -> None:
    await signed_up(site.flow, "a@example.com")
    response = site.client.post(site.path("confirm"))
    assert (response.status_code, _state(site)) == (200, ConsentState.DOI)


async def test_confirm_records_client_ip(site: _Site) -> None:
    await signed_up(site.flow, "a@example.com")
    site.client.post(site.path("confirm"), headers={"User-Agent": "phone/1"})
    contact = site.flow.store.require_contact("a@example.com")
    confirmed = site.flow.store.events(contact.id)[-1]
    assert (confirmed.payload["ip"], confirmed.payload["user_agent"]) == (
        "127.0.0.1",
        "phone/1",
    )


async def test_forwarded_for_ignored_by_default(site: _Site) -> None:
    await signed_up(site.flow, "a@example.com")
    site.client.post(site.path("confirm"), headers={"X-Forwarded-For": "192.0.2.99"})
    contact = site.flow.store.require_contact("a@example.com")
    assert site.flow.store.events(contact.id)[-1].payload["ip"] == "127.0.0.1"


async def test_post_confirm_twice(site: _Site) -> None:
    await signed_up(site.flow, "a@example.com")
    site.client.post(site.path("confirm"))
    assert site.client.post(site.path("confirm")).status_code == 409


def test_forged_confirm(site: _Site) -> None:
    assert site.client.post("/confirm/" + "A" * 43).status_code == 404


async def test_expired_confirm(site: _Site) -> None:
    await signed_up(site.flow, "a@example.com")
    clock = site.flow.store.clock
    clock.advance(days=8)  # type: ignore[attr-defined]
    assert site.client.post(site.path("confirm")).status_code == 410


async def test_concurrent_posts_one_wins(site: _Site) -> None:
    await signed_up(site.flow, "a@example.com")
    path = site.path("confirm")

    def post(_: int) -> int:
        with httpx.Client(base_url=site.base, timeout=10) as client:
            return client.post(path).status_code

    with ThreadPoolExecutor(max_workers=4) as pool:
        codes = sorted(pool.map(post, range(4)))
    assert codes == [200, 409, 409, 409]


async def test_get_unsubscribe_changes_nothing(site: _Site) -> None:
    await signed_up(site.flow, "a@example.com")
    site.client.get(site.path("unsubscribe"))
    assert _state(site) is ConsentState.PENDING


async def test_one_click_unsubscribe(site: _Site) -> None:
    await signed_up(site.flow, "a@example.com")
    site.flow.confirm(link_token(site.mailer.sent[0], "confirm"), CONTEXT)
    response = site.client.post(
        site.path("unsubscribe"),
        content="List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert (response.status_code, _state(site)) == (200, ConsentState.WITHDRAWN)


async def test_one_click_records_method(site: _Site) -> None:
    await signed_up(site.flow, "a@example.com")
    site.client.post(
        site.path("unsubscribe"),
        content="List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    contact = site.flow.store.require_contact("a@example.com")
    assert site.flow.store.events(contact.id)[-1].payload["method"] == "one_click"


async def test_button_unsubscribe(site: _Site) -> None:
    await signed_up(site.flow, "a@example.com")
    response = site.client.post(site.path("unsubscribe"))
    assert (response.status_code, _state(site)) == (200, ConsentState.WITHDRAWN)


def _form(address: str, **extra: str) -> dict[str, str]:
    return {"email": address, "purpose": "news", "consent_version": "v1", **extra}


def test_signup_form(site: _Site) -> None:
    response = site.client.post("/signup", data=_form("a@example.com"))
    assert (response.status_code, _state(site)) == (202, ConsentState.PENDING)


def test_signup_records_form_url(site: _Site) -> None:
    site.client.post(
        "/signup",
        data=_form("a@example.com"),
        headers={"Referer": "https://example.com/join"},
    )
    contact = site.flow.store.require_contact("a@example.com")
    signup = site.flow.store.events(contact.id)[1]
    assert signup.payload["form"] == "https://example.com/join"


def test_signup_honeypot(site: _Site) -> None:
    response = site.client.post("/signup", data=_form("a@example.com", website="x"))
    assert (response.status_code, site.mailer.sent) == (202, [])


def test_signup_invalid_address(site: _Site) -> None:
    response = site.client.post("/signup", data=_form("<b>x</b>@host.invalid"))
    assert response.status_code == 400


def test_signup_error_page_escapes(site: _Site) -> None:
    response = site.client.post("/signup", data=_form("<b>x</b>@host.invalid"))
    assert "<b>x</b>" not in response.text


def test_signup_throttled_per_ip(site: _Site) -> None:
    codes = [
        site.client.post("/signup", data=_form(f"u{n}@example.com")).status_code
        for n in range(5)
    ]
    assert codes == [202, 202, 202, 202, 429]


def test_signup_throttle_retry_after(site: _Site) -> None:
    for n in range(4):
        site.client.post("/signup", data=_form(f"u{n}@example.com"))
    response = site.client.post("/signup", data=_form("u9@example.com"))
    assert int(response.headers["Retry-After"]) > 0


def test_signup_same_answer_for_confirmed(site: _Site) -> None:
    site.client.post("/signup", data=_form("a@example.com"))
    site.client.post(site.path("confirm"))
    site.flow.store.clock.advance(hours=1)  # type: ignore[attr-defined]
    response = site.client.post("/signup", data=_form("a@example.com"))
    assert response.status_code == 202
