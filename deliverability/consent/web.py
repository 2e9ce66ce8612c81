"""The web endpoints of the double opt-in flow, as a Starlette (ASGI) app.

* ``GET /confirm/{token}`` shows a page with a button; only the button's
  ``POST`` confirms. Link scanners that fetch URLs with GET or HEAD change
  nothing.
* ``GET /unsubscribe/{token}`` likewise shows a button; ``POST`` withdraws.
  A ``POST`` with the body ``List-Unsubscribe=One-Click`` is the RFC 8058
  one-click unsubscribe that mailbox providers send.
* ``POST /signup`` takes a form (``email``, ``purpose``, ``consent_version``)
  and returns the same page for every accepted address, so the page does not
  reveal who is subscribed. A filled-in hidden ``website`` field marks a bot.

Tokens appear in URLs, so run the app without an access log (``serve`` does).
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import parse_qs

import uvicorn
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import Route

from ..errors import InputError
from .errors import ThrottledError, TokenError, TokenProblem
from .flow import DoubleOptIn, RequestContext
from .mail import templates
from .model import IllegalTransition

__all__ = ["create_app", "serve", "server_config"]

log = logging.getLogger(__name__)

_TOKEN_STATUS = {
    TokenProblem.UNKNOWN: (
        404,
        "This link is not valid. Please copy the whole link from the mail.",
    ),
    TokenProblem.EXPIRED: (410, "This link has expired. Please sign up again."),
    TokenProblem.USED: (409, "This link was already used."),
    TokenProblem.WRONG_ACTION: (404, "This link is not valid for this page."),
}
_ONE_CLICK = "List-Unsubscribe=One-Click"
_MAX_FORM = 16 * 1024


def create_app(flow: DoubleOptIn, *, trust_forwarded_for: bool = False) -> Starlette:
    """Build the app around ``flow``.

    :param trust_forwarded_for: take the client IP from ``X-Forwarded-For``;
        set it only behind a proxy that overwrites that header.
    """
    endpoints = _Endpoints(flow, trust_forwarded_for)
    routes = [
        Route("/confirm/{token}", endpoints.confirm_page, methods=["GET"]),
        Route("/confirm/{token}", endpoints.confirm, methods=["POST"]),
        Route("/unsubscribe/{token}", endpoints.unsubscribe_page, methods=["GET"]),
        Route("/unsubscribe/{token}", endpoints.unsubscribe, methods=["POST"]),
        Route("/signup", endpoints.signup, methods=["POST"]),
    ]
    return Starlette(routes=routes)


class _Endpoints:
    """The request handlers, sharing the flow and the proxy setting."""

    def __init__(self, flow: DoubleOptIn, trust_forwarded_for: bool) -> None:
        self.flow = flow
        self.trust_forwarded_for = trust_forwarded_for

    def context(self, request: Request) -> RequestContext:
        """Return the IP, user agent and referring form of ``request``."""
        ip = request.client.host if request.client else None
        forwarded = request.headers.get("x-forwarded-for")
        if self.trust_forwarded_for and forwarded:
            ip = forwarded.split(",")[0].strip()
        return RequestContext(
            ip, request.headers.get("user-agent"), request.headers.get("referer")
        )

    async def confirm_page(self, request: Request) -> Response:
        """Show the confirm button; change nothing."""
        return _page(
            "Confirm your subscription",
            "Press the button to confirm that you want this mail.",
            button="Confirm",
            action=request.url.path,
        )

    async def confirm(self, request: Request) -> Response:
        """Confirm the sign-up the token in the URL belongs to."""
        token = request.path_params["token"]
        try:
            await run_in_threadpool(self.flow.confirm, token, self.context(request))
        except TokenError as exc:
            return _token_problem(exc)
        except IllegalTransition as exc:
            log.info("confirmation rejected: %s", exc)
            return _page(
                "Not confirmed",
                "This request was cancelled. Please sign up again.",
                status=409,
            )
        return _page("Thank you", "Your subscription is confirmed.")

    async def unsubscribe_page(self, request: Request) -> Response:
        """Show the unsubscribe button; change nothing."""
        return _page(
            "Unsubscribe",
            "Press the button to stop receiving this mail.",
            button="Unsubscribe",
            action=request.url.path,
        )

    async def unsubscribe(self, request: Request) -> Response:
        """Withdraw consent, from the button or an RFC 8058 one-click POST."""
        token = request.path_params["token"]
        body = (await request.body()).decode("utf-8", "replace").strip()
        one_click = body == _ONE_CLICK
        try:
            await run_in_threadpool(
                self.flow.unsubscribe, token, self.context(request), one_click=one_click
            )
        except TokenError as exc:
            return _token_problem(exc, plain=one_click)
        if one_click:
            return PlainTextResponse("unsubscribed\n")
        return _page("Unsubscribed", "You will receive no more of this mail.")

    async def signup(self, request: Request) -> Response:
        """Record a sign-up from the form and send the confirmation mail."""
        form = await _read_form(request)
        if form is None:
            log.info("sign-up rejected: unreadable form data")
            return _page(
                "Sign-up failed", "The form data could not be read.", status=400
            )
        if form.get("website"):
            log.info("sign-up with the hidden field filled in ignored")
            return _accepted()
        try:
            check = await self.flow.check_address(form.get("email", ""))
            await run_in_threadpool(
                self.flow.register,
                check,
                form.get("purpose", ""),
                form.get("consent_version", ""),
                self.context(request),
            )
        except ThrottledError as exc:
            log.info("sign-up throttled per %s for %d s", exc.scope, exc.retry_after)
            return _page(
                "Too many requests",
                "Please try again later.",
                status=429,
                headers={"Retry-After": str(exc.retry_after)},
            )
        except (InputError, ValueError) as exc:
            # The message names the address, so only its type is logged.
            log.info("sign-up rejected: %s", type(exc).__name__)
            return _page("Sign-up failed", str(exc), status=400)
        return _accepted()


async def _read_form(request: Request) -> dict[str, str] | None:
    """Parse a URL-encoded form body of at most 16 KiB; ``None`` if unusable."""
    body = b""
    async for part in request.stream():
        body += part
        if len(body) > _MAX_FORM:
            return None
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return None
    fields = parse_qs(text, keep_blank_values=True, max_num_fields=20)
    return {name: values[0] for name, values in fields.items()}


def _page(
    title: str,
    message: str,
    *,
    status: int = 200,
    button: str | None = None,
    action: str | None = None,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    html = templates.get_template("page.html.j2").render(
        title=title, message=message, button=button, action=action
    )
    extra: dict[str, Any] = {
        "Cache-Control": "no-store",
        "Referrer-Policy": "no-referrer",
    }
    extra.update(headers or {})
    return HTMLResponse(html, status_code=status, headers=extra)


def _accepted() -> HTMLResponse:
    return _page(
        "Almost done",
        "Please check your inbox and confirm with the link in the mail we sent.",
        status=202,
    )


def _token_problem(exc: TokenError, *, plain: bool = False) -> Response:
    status, message = _TOKEN_STATUS[exc.problem]
    log.info("token rejected: %s", exc.problem.value)
    if plain:
        return PlainTextResponse(message + "\n", status_code=status)
    return _page("Link not valid", message, status=status)


def server_config(app: Starlette, *, host: str, port: int) -> uvicorn.Config:
    """Return the uvicorn settings the app needs.

    No access log, because URLs carry tokens. No proxy-header handling in
    uvicorn, because the app decides itself whether to trust
    ``X-Forwarded-For`` (uvicorn would trust it from 127.0.0.1 by default).
    """
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        access_log=False,
        proxy_headers=False,
        log_level="info",
        lifespan="off",
    )


def serve(app: Starlette, *, host: str = "127.0.0.1", port: int = 8025) -> None:
    """Run ``app`` with uvicorn until interrupted."""
    uvicorn.Server(server_config(app, host=host, port=port)).run()
