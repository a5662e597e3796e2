"""Security headers on every gateway response; the dashboard gets a Content-Security-Policy of its own.

The dashboard keeps an API key in the browser, so a script injected into it could send the key
anywhere. Its policy allows only the dashboard's own files and the gateway itself: no inline
script, no foreign origin, no framing. JSON responses get `default-src 'none'` (they render
nothing); the interactive API docs at /docs and /redoc load FastAPI's Swagger/ReDoc bundles from
their CDN with an inline bootstrap, so they get the headers that do not forbid that.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

DASHBOARD_CSP = "; ".join((
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",  # React and the charts set styles through the CSSOM, which this allows
    "img-src 'self' data: blob:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
))
API_CSP = "default-src 'none'; frame-ancestors 'none'"
DOCS = ("/docs", "/redoc")
HSTS = "max-age=31536000"  # one year, sent only on HTTPS (where TLS terminates at the gateway or its proxy)


def headers_for(path: str, https: bool) -> list[tuple[bytes, bytes]]:
    """The security headers a response to `path` carries."""
    out = [(b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer")]
    if not path.startswith(DOCS):
        csp = API_CSP if path.startswith("/api/") or path == "/openapi.json" else DASHBOARD_CSP
        out += [(b"content-security-policy", csp.encode()), (b"x-frame-options", b"DENY")]
    if https:
        out.append((b"strict-transport-security", HSTS.encode()))
    return out


class SecurityHeaders:
    """ASGI middleware adding `headers_for` to every HTTP response (a plain ASGI wrapper: no body buffering)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = headers_for(scope.get("path", ""), scope.get("scheme") == "https")

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                message["headers"] = [*message.get("headers", []), *(h for h in extra if h[0] not in present)]
            await send(message)

        await self.app(scope, receive, with_headers)
