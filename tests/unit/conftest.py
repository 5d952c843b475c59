"""Fixtures of the unit tier: a learner of the progress service, on the `app` fixture's real databases."""
import pytest

from support.service import Client


@pytest.fixture
def client_(app):
    """One anonymous learner calling the progress service with explicit moments (`client` is the test client)."""
    return Client(app)
