"""Logged-in API clients for tests: a user per role, a bearer token per user.

Password hashing uses cheap argon2 parameters (the algorithm is the same; only
the cost differs) so logging in does not dominate the test run.
"""

from __future__ import annotations

import contextlib
from typing import Any

from argon2 import PasswordHasher
from fastapi import FastAPI
from fastapi.testclient import TestClient

from smartgate.operators.accounts import UserExists

FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
PASSWORD = "correct horse battery"


def ensure_user(app: FastAPI, role: str, username: str | None = None) -> str:
    """A user with ``role`` (named after it unless given); returns the username."""
    name = username or role
    with contextlib.suppress(UserExists):
        app.state.ops.auth.create_user(name, PASSWORD, role)
    return name


def token(client: TestClient, role: str, username: str | None = None) -> str:
    """Log in over HTTP as a user with ``role`` and return the session token."""
    app: Any = client.app
    name = ensure_user(app, role, username)
    r = client.post("/api/v1/auth/login", json={"username": name, "password": PASSWORD})
    assert r.status_code == 200, r.text
    t: str = r.json()["token"]
    return t


def headers(client: TestClient, role: str, username: str | None = None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(client, role, username)}"}


def login(client: TestClient, role: str = "controller") -> TestClient:
    """Make every later request of ``client`` carry a ``role`` user's token."""
    client.headers["Authorization"] = f"Bearer {token(client, role)}"
    return client
