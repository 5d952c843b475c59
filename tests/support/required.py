"""Services the tests need (PostgreSQL, Redis, a private cluster, Chromium): a missing one skips, or fails with CI set."""
import os
from typing import NoReturn

import pytest


def missing(skip_reason: str, ci_reason: str | None = None) -> NoReturn:
    """Skip the test for want of a service; with CI set, fail instead, since CI must run every test."""
    if os.environ.get("CI"):
        pytest.fail(ci_reason or skip_reason)
    pytest.skip(skip_reason)
