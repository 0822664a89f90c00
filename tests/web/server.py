"""A real gunicorn with the production config (deploy/gunicorn.conf.py) on a free port, for tests and bench.

The app gets its database, secret and clock the way production does: the environment and an instance
folder of its own (instance/config.py may set CLOCK, so a run plays at a fixed moment).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "deploy" / "gunicorn.conf.py"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Gunicorn:
    """`with Gunicorn(url, instance) as server:` starts it, waits until it answers, and stops it."""

    def __init__(self, database_url: str, instance: Path, *, workers: int = 2, threads: int = 2,
                 clock: str | None = None, access_log: Path | None = None, env: dict | None = None):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        instance.mkdir(parents=True, exist_ok=True)
        if clock:
            (instance / "config.py").write_text(
                "from datetime import datetime\n"
                f"_NOW = datetime.fromisoformat({clock!r})\n"
                "CLOCK = lambda: _NOW  # the moment the run plays at\n")
        self.log = instance / "gunicorn.log"
        self.env = {**os.environ, "FRONTLINE_DATABASE_URL": database_url, "FRONTLINE_INSTANCE_PATH": str(instance),
                    "FRONTLINE_SECRET_KEY": "server-test-secret", "FRONTLINE_SECURE_COOKIES": "0",
                    "FRONTLINE_BIND": f"127.0.0.1:{self.port}", "WEB_CONCURRENCY": str(workers),
                    "FRONTLINE_THREADS": str(threads), "FRONTLINE_ACCESS_LOG": str(access_log or ""),
                    **(env or {})}
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> Gunicorn:
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "-c", str(CONFIG), "web:create_app()"],
                cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 90  # importing OR-Tools on a busy machine
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn stopped (exit {self.process.returncode}):\n{self.log.read_text()}")
            try:
                requests.get(f"{self.base}/auth/login", timeout=5)
                return self
            except requests.ConnectionError:
                if time.monotonic() > deadline:
                    self.__exit__()
                    raise RuntimeError(f"gunicorn did not answer:\n{self.log.read_text()}") from None
                time.sleep(0.3)

    def __exit__(self, *_exc) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)  # gunicorn's graceful stop: the master stops its workers
            try:
                self.process.wait(timeout=40)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()

    def worker_pids(self) -> set[int]:
        import re

        return {int(p) for p in re.findall(r"Booting worker with pid: (\d+)", self.log.read_text())}


class Desk:
    """One person's browser-less session on the server: logged in through the API, CSRF token kept."""

    def __init__(self, base: str, username: str, password: str = "frontline-demo"):
        self.base = base
        self.http = requests.Session()
        response = self.http.post(f"{base}/api/v1/session", json={"username": username, "password": password},
                                  timeout=30)
        assert response.status_code == 200, response.text
        self.http.headers["X-CSRFToken"] = response.json()["csrf_token"]

    def get(self, path: str, **kwargs) -> requests.Response:
        return self.http.get(self.base + path, timeout=60, **kwargs)

    def post(self, path: str, **kwargs) -> requests.Response:
        return self.http.post(self.base + path, timeout=60, **kwargs)
