"""What every response carries for the browser's own protections, and the login's rate limits.

The pages run no inline script (the CSP forbids it): their only script is the vendored htmx.
"""

from __future__ import annotations

from flask import Flask, current_app, request
from flask_babel import gettext as _
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
       "connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'; object-src 'none'")
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}

# Failed login attempts: per address and per account, so neither a scan of many accounts nor a guess of one
# account from many addresses gets far. Storage in Redis when configured (shared by every worker).
LOGIN_PER_ADDRESS = "60 per minute; 600 per hour"  # a call centre logs in from behind one address
LOGIN_PER_ACCOUNT = "10 per minute; 30 per hour"

limiter = Limiter(key_func=get_remote_address, default_limits=[], headers_enabled=True,
                  strategy="moving-window")


def _account() -> str:
    """The account a login attempt names, from the form or the JSON body (case-insensitive)."""
    data = request.get_json(silent=True) if request.is_json else request.form
    name = data.get("username") if isinstance(data, dict) or hasattr(data, "get") else None
    return f"account:{str(name or '').strip().lower()}"


def _failed(response) -> bool:
    return response.status_code >= 400


def limit_logins(view):
    """Both limits on a login view; the page and the API count against the same ones. Only failed attempts
    count: a desk that logs in many times a day, or a script that logs in for each call, is never locked out."""
    view = limiter.shared_limit(LOGIN_PER_ADDRESS, scope="login-address", methods=["POST"], deduct_when=_failed)(view)
    return limiter.shared_limit(LOGIN_PER_ACCOUNT, scope="login-account", key_func=_account, methods=["POST"],
                                deduct_when=_failed)(view)


def register(app: Flask) -> None:
    app.config.setdefault("RATELIMIT_STORAGE_URI", app.config.get("REDIS_URL") or "memory://")
    # Said for every app: the limiter is one object, and left unsaid, an app inherits the previous app's
    # choice (a test app made with the limits off would switch them off for the next app too).
    app.config.setdefault("RATELIMIT_ENABLED", True)
    # Secure cookies travel over HTTPS only: production runs behind TLS. `flask --app web serve` (one machine,
    # plain HTTP on 127.0.0.1) and the tests turn it off; FRONTLINE_SECURE_COOKIES=0 does too.
    secure = app.config.get("SECURE_COOKIES", not (app.debug or app.testing))
    app.config["SESSION_COOKIE_SECURE"] = app.config["REMEMBER_COOKIE_SECURE"] = secure
    limiter.init_app(app)

    @app.after_request
    def protect(response):
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    @app.errorhandler(429)
    def too_many(exc):
        from web.errors import error_response

        current_app.logger.warning("login rate limit hit: %s %s from %s (%s)", request.method, request.path,
                                   get_remote_address(), exc.description)
        return error_response(429, "too_many_requests", _("Too many login attempts: wait a minute and try again."),
                              headers={"Retry-After": "60"})
