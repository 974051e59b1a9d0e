"""Rate limits of the public pages (Flask-Limiter): per client address and per place, counted in memory or Redis.

One worker counts in its own memory; several workers or hosts share counts only through Redis:
XUNCHA_RATELIMIT_STORAGE=redis://host:6379/0 (needs `pip install redis`)."""
from __future__ import annotations

import os

from flask import Flask, current_app, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from werkzeug.middleware.proxy_fix import ProxyFix

limiter = Limiter(key_func=get_remote_address)
LIMITED_BLUEPRINTS = frozenset({"public_page"})  # web/public.py: the QR report and receipt pages


@limiter.request_filter
def _not_limited() -> bool:
    # Only the public pages have limits. Every other request (the API, the workplace) is let through here,
    # before the limiter resolves limits for its endpoint: about 6 % of a transition POST's time otherwise.
    return request.blueprint not in LIMITED_BLUEPRINTS


def defaults() -> dict:
    """Limits and storage from the environment (create_app applies them before the caller's config)."""
    return {
        "RATELIMIT_STORAGE_URI": os.environ.get("XUNCHA_RATELIMIT_STORAGE") or "memory://",
        "RATELIMIT_HEADERS_ENABLED": True,  # Retry-After on a 429
        # Campus networks put many phones behind one address: the per-address limit is generous, the per-place
        # one stops a flood of reports about one place whatever addresses it comes from.
        "PUBLIC_LIMIT_CLIENT": os.environ.get("XUNCHA_PUBLIC_LIMIT_CLIENT") or "20 per 10 minutes;100 per day",
        "PUBLIC_LIMIT_PLACE": os.environ.get("XUNCHA_PUBLIC_LIMIT_PLACE") or "30 per hour",
        "PUBLIC_LIMIT_RATING": os.environ.get("XUNCHA_PUBLIC_LIMIT_RATING") or "20 per hour",
        "PROXIES": int(os.environ.get("XUNCHA_PROXIES") or 0),
    }


def init_app(app: Flask) -> None:
    # Behind nginx the client's address is in X-Forwarded-For; trust exactly as many proxies as there are.
    if app.config.get("PROXIES"):
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=app.config["PROXIES"], x_proto=app.config["PROXIES"],
                                x_host=app.config["PROXIES"])
    limiter.init_app(app)  # each app gets fresh storage from its config


def client_limit() -> str:
    return current_app.config["PUBLIC_LIMIT_CLIENT"]


def place_limit() -> str:
    return current_app.config["PUBLIC_LIMIT_PLACE"]


def rating_limit() -> str:
    return current_app.config["PUBLIC_LIMIT_RATING"]


def place_key() -> str:
    return "place:" + str((request.view_args or {}).get("code", ""))[:64]
