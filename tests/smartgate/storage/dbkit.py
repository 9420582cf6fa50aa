"""The databases every persistence test runs on: SQLite always, PostgreSQL when available."""

from __future__ import annotations

import pytest

DATABASES = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
]
