"""Waiting for something to become true, with a bound: a liveness guard, not a speed assertion."""
import time

import pytest


def poll(condition, timeout: float = 15, interval: float = 0.2, message: str = "condition", page=None):
    """Call `condition()` until it returns something truthy, and return that; fail after `timeout` s.

    With `page` (Playwright), waits through the page so that its events (requests, console) keep arriving.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {message}; last value: {value!r}")
        if page is not None:
            page.wait_for_timeout(interval * 1000)
        else:
            time.sleep(interval)
