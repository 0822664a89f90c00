"""Frontline behind gunicorn: several worker processes over one PostgreSQL (README, "Production").

    gunicorn -c deploy/gunicorn.conf.py 'web:create_app()'

Every setting can be changed from the environment without editing this file:
FRONTLINE_BIND (default 127.0.0.1:8000: a TLS proxy in front), WEB_CONCURRENCY (worker processes),
FRONTLINE_THREADS (threads per worker), FRONTLINE_TIMEOUT (seconds), FRONTLINE_ACCESS_LOG ("-" is stdout,
"" turns it off).
"""

from __future__ import annotations

import gc
import multiprocessing
import os

bind = os.environ.get("FRONTLINE_BIND", "127.0.0.1:8000")

# A request is mostly Python (building the plan, the optimizer) and a little database wait: one process per
# core does the work, a second per core covers the waits. Threads let a worker answer the light requests
# (the inboxes polled every two seconds) while another thread waits for the database.
workers = int(os.environ.get("WEB_CONCURRENCY", max(2, 2 * multiprocessing.cpu_count())))
worker_class = "gthread"
threads = int(os.environ.get("FRONTLINE_THREADS", 4))

# The app is imported once, in the master, and forked: OR-Tools and the app load once, a broken
# configuration stops the start instead of every worker, and the workers share the pages of memory.
# The forked workers must not share the master's database connections (see post_fork).
preload_app = True

# Python's recipe for forking servers (the `gc.freeze` documentation): no collection in the master while the app
# loads, everything it loaded frozen before the fork, collections on in the worker. The workers' collections then
# never walk the app's hundreds of thousands of long-lived objects (nor copy their pages by touching them).
gc.disable()


def pre_fork(server, worker):
    gc.freeze()


# The optimizer answers within the policy's time limit (1 s by default, the page then falls back to the
# rules), so a request that holds a worker for a minute is stuck: gunicorn replaces the worker.
timeout = int(os.environ.get("FRONTLINE_TIMEOUT", 60))
graceful_timeout = 30  # a restart lets running requests finish (a booking commits or rolls back whole)
keepalive = 5  # behind a proxy that keeps connections open

# A worker is replaced after a few thousand requests (jitter so they do not all restart at once): what a
# long-lived process accumulates (caches of old network stamps, fragmentation) is given back.
max_requests = 5000
max_requests_jitter = 500

# Behind a TLS proxy on the same machine: X-Forwarded-Proto from it makes the request https, so the Secure
# session cookie is set and url_for builds https links.
forwarded_allow_ips = os.environ.get("FRONTLINE_FORWARDED_ALLOW_IPS", "127.0.0.1,::1")

# One line per request on stdout, with the time it took in milliseconds (%(M)s) and the worker (%(p)s).
accesslog = os.environ.get("FRONTLINE_ACCESS_LOG", "-") or None
access_log_format = '%(h)s "%(r)s" %(s)s %(B)s %(M)sms %(p)s "%(a)s"'
errorlog = "-"
# gunicorn 23+ opens a control socket at one fixed path per user: several servers on one machine (a test run,
# a bench) would take it from each other, and nothing here uses it.
control_socket_disable = True
loglevel = os.environ.get("FRONTLINE_LOG_LEVEL", "info")


def post_fork(server, worker):
    """Each worker opens connections of its own: a connection inherited from the master would be shared by
    two processes (SQLAlchemy's "using connection pools with multiprocessing"). `close=False` leaves the
    master's connections to the master, and the worker's pool starts empty."""
    from web.extensions import db

    gc.enable()
    app = server.app.wsgi()
    with app.app_context():
        for engine in db.engines.values():
            engine.dispose(close=False)
