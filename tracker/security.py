"""Security headers on every response, and cookies that travel only over TLS and only to our pages.

Talisman sets the headers on pages, fragments, JSON, errors and static files alike. The Content
Security Policy lets a page run the app's own script files and nothing else: no inline script,
no eval, no inline style. htmx is told the same in base.html's htmx-config, and tracker.js starts
heartbeats with an event instead of an hx-trigger filter, which htmx would have to eval.

TLS ends at the proxy in front of the app, so the app never redirects to https itself. ProxyFix
believes the proxy's X-Forwarded-For and X-Forwarded-Proto for TRACKER_PROXY_HOPS proxies, so that
request.is_secure (which decides HSTS) and remote_addr (which the rate limits count by) are the
client's. X-Forwarded-Host is not believed: the proxy passes the Host header on unchanged, and a
client could set that header itself.
"""
from flask import Flask
from flask_talisman import Talisman
from werkzeug.middleware.proxy_fix import ProxyFix

from tracker.content import ContentStore

class MediaSources:
    """media-src: the app itself, and the sites the current content plays video or audio files from.

    Talisman joins a non-string value when it writes each response's header, so the list follows
    the content as it reloads, and stays as short as the content allows. It holds the app's
    content store itself: no app-context lookups on every response, heartbeats included.
    """

    def __init__(self, content: ContentStore):
        self.content = content

    def __iter__(self):
        yield "'self'"
        yield from self.content.index.media_origins


CONTENT_SECURITY_POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "connect-src": "'self'",
    # "media-src": MediaSources(the app's content), added by init_security
    "frame-src": "https://www.youtube-nocookie.com",  # video lenses embed the privacy-enhanced player
    "frame-ancestors": "'none'",
    "form-action": "'self'",
    "base-uri": "'self'",
    "object-src": "'none'",
}

# Not "same-origin" or stricter: the YouTube player refuses to play without the embedding
# page's origin. Same-origin requests keep the full referrer, which Flask-WTF's CSRF check
# requires over https.
REFERRER_POLICY = "strict-origin-when-cross-origin"


def init_security(app: Flask, content: ContentStore) -> None:
    """Trust the configured proxies, mark every cookie, and add the security headers."""
    hops = app.config["TRACKER_PROXY_HOPS"]
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)
    # Chromium and Firefox count http://localhost and 127.0.0.1 as secure: Secure cookies work on a laptop.
    secure = bool(app.config["TRACKER_SECURE_COOKIES"])
    app.config.update(
        SESSION_COOKIE_SECURE=secure, SESSION_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SECURE=secure, REMEMBER_COOKIE_HTTPONLY=True, REMEMBER_COOKIE_SAMESITE="Lax",
    )
    Talisman(
        app,
        force_https=False,  # the proxy terminates TLS and redirects plain http itself
        # Set above from the setting; Talisman's own switch would turn Secure off in debug mode.
        session_cookie_secure=False,
        session_cookie_samesite="Lax",
        session_cookie_http_only=True,
        frame_options="DENY",
        content_security_policy={**CONTENT_SECURITY_POLICY, "media-src": MediaSources(content)},
        referrer_policy=REFERRER_POLICY,
    )
