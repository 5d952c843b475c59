"""Production gunicorn settings: `gunicorn -c gunicorn.conf.py wsgi:app` (what scripts/serve runs).

Every value can be changed from the environment; README "Production" lists them.
"""
import os

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"

# Threaded workers: a chat answer streams for up to a minute, and a sync worker would be blocked
# for all that time. One process per core, threads for the waiting on PostgreSQL and the tutor.
worker_class = "gthread"
workers = int(os.environ.get("WEB_CONCURRENCY", os.cpu_count() or 1))
threads = int(os.environ.get("GUNICORN_THREADS", "8"))

# gthread workers check in with the master from their main loop, not from request threads, so a
# long stream does not trip this timeout; it catches a worker that is stuck as a whole.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = 30  # on SIGTERM, in-flight heartbeats and streams get this long to finish
keepalive = 5  # seconds an idle proxy connection stays open; above nginx's keepalive_timeout
# Recycle workers now and then so a slow leak can never take a machine down; jitter keeps
# them from restarting all at once.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "20000"))
max_requests_jitter = max_requests // 10

# The proxy in front terminates TLS and says so in X-Forwarded-Proto; the app's ProxyFix
# (TRACKER_PROXY_HOPS) decides how far to trust forwarded headers, so gunicorn passes them on.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")

# The runtime control socket defaults to one path per user, so a second instance on the machine
# would take over the first one's; we manage instances with signals, so it stays off.
control_socket_disable = True

accesslog = "-"
errorlog = "-"
# JSON lines for gunicorn's own logs and access log, the same shape as the app's (tracker/logs.py).
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "tracker.logs.RequestIdFilter"}},
    "formatters": {
        "json": {"()": "tracker.logs.json_formatter"},
        "access": {"()": "tracker.logs.access_log_formatter"},
    },
    "handlers": {
        "stderr": {"class": "logging.StreamHandler", "formatter": "json", "filters": ["request_id"], "stream": "ext://sys.stderr"},
        "access": {"class": "logging.StreamHandler", "formatter": "access", "stream": "ext://sys.stdout"},
    },
    "root": {"level": "INFO", "handlers": ["stderr"]},
    "loggers": {
        "gunicorn.error": {"level": "INFO", "handlers": ["stderr"], "propagate": False},
        "gunicorn.access": {"level": "INFO", "handlers": ["access"], "propagate": False},
    },
}
