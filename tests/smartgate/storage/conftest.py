"""``postgres``-marked tests need a PostgreSQL server (SMARTGATE_TEST_PG_URL)."""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "postgres: needs PostgreSQL at SMARTGATE_TEST_PG_URL (.ci/run starts one)"
    )
