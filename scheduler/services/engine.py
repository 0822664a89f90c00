"""Asking the optimizer from a request: always within a time limit, never an error on the page.

The question runs on a worker thread holding only optimizer dataclasses (no database session), so a
slow or failing solve costs the request at most its time limit; the caller falls back to the rules.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as Timeout
from typing import TypeVar

T = TypeVar("T")
log = logging.getLogger(__name__)

# A few threads: a question abandoned at its time limit finishes in the background without blocking others.
_pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="optimizer")


class EngineUnavailable(Exception):
    """The optimizer failed or ran out of time; `code` says which (`engine_failed`, `engine_timeout`)."""

    def __init__(self, code: str, detail: str = ""):
        super().__init__(f"{code}: {detail}")
        self.code = code


def ask(question: Callable[[], T], time_limit: float) -> T:
    future = _pool.submit(question)
    try:
        return future.result(timeout=max(0.05, time_limit))
    except Timeout:
        future.cancel()
        log.warning("optimizer took longer than %.2f s: falling back to the rules", time_limit)
        raise EngineUnavailable("engine_timeout", f"no answer within {time_limit:g} s") from None
    except Exception as exc:  # noqa: BLE001 - a solver error must never reach the page
        log.exception("optimizer failed: falling back to the rules")
        raise EngineUnavailable("engine_failed", f"{type(exc).__name__}: {exc}") from None
