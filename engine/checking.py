"""Checking a workflow text an administrator sends: the work runs in a child process of its own.

Linting the largest accepted text costs about 60 ms of pure-Python CPU (YAML composing, CEL compilation). Run on a
request thread it holds the interpreter lock from the other threads of the same server process, and every reader
there waits for it at each database round trip. In a child process the operating system shares the cores fairly
instead, and a text that somehow runs away is cut off at CHECK_SECONDS instead of holding a server thread.
"""
from __future__ import annotations

import multiprocessing
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures import TimeoutError as Timeout
from concurrent.futures.process import BrokenProcessPool

from workflows.errors import Problem
from workflows.lint import lint_text

CHECK_SECONDS = 20.0

_lock = threading.Lock()
_pool: ProcessPoolExecutor | None = None


def lint_apart(text: str, file: str) -> list[Problem]:
    """`workflows.lint.lint_text` in the checking process; one check at a time per server process."""
    with _lock:
        pool = _checker()
        future = pool.submit(lint_text, text, file)
        try:
            return future.result(timeout=CHECK_SECONDS)
        except (Timeout, BrokenProcessPool):
            _discard(pool)
            return [Problem(file, None, f"checking the text took longer than {CHECK_SECONDS:.0f} s and was stopped",
                            "error", "too-slow")]


def _checker() -> ProcessPoolExecutor:
    global _pool
    if _pool is None:
        # forkserver: the child starts from a clean process, not a fork of a server with threads and connections
        method = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
        _pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context(method))
    return _pool


def _discard(pool: ProcessPoolExecutor) -> None:
    global _pool
    for process in list(getattr(pool, "_processes", {}).values()):  # a stuck check cannot be cancelled: end it
        process.kill()
    pool.shutdown(wait=False, cancel_futures=True)
    _pool = None
