"""Logins, sessions, roles and user administration over HTTP."""

from __future__ import annotations

from datetime import datetime

import pytest
from fastapi.testclient import TestClient

from smartgate.operators.accounts import SESSION_TTL_S, Auth, ensure_demo_admin
from smartgate.storage.store import Store
from tests.api.apikit import FAST_HASHER, PASSWORD, ensure_user, headers
from tests.api.conftest import Clock

PUBLIC = {("GET", "/api/v1/health"), ("POST", "/api/v1/auth/login")}


def is_problem(r: object, status: int) -> dict[str, object]:
    from httpx import Response

    assert isinstance(r, Response)
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    body: dict[str, object] = r.json()
    assert body["status"] == status and body["title"] and body["detail"]
    return body


def test_every_api_route_but_health_and_login_needs_a_login(client: TestClient) -> None:
    paths = client.app.openapi()["paths"]  # type: ignore[attr-defined]
    routes = [(m.upper(), p) for p, ops in paths.items() for m in ops]
    assert len(routes) > 30
    for method, path in routes:
        url = path.replace("{alarm_id}", "1").replace("{", "").replace("}", "")
        r = client.request(method, url, json={})
        if (method, path) in PUBLIC:
            assert r.status_code != 401, path
        else:
            is_problem(r, 401)
            assert r.headers["www-authenticate"] == "Bearer", path
    assert client.get("/api/v1/health").status_code == 200
    assert client.get("/").status_code == 200  # the SPA and its login screen
    assert client.get("/docs").status_code == 200


def test_login_me_logout(client: TestClient, clock: Clock) -> None:
    ensure_user(client.app, "controller", "lan")  # type: ignore[arg-type]
    r = client.post("/api/v1/auth/login", json={"username": "lan", "password": PASSWORD})
    assert r.status_code == 200
    body = r.json()
    assert body["user"] == {"username": "lan", "role": "controller"}
    expires = datetime.fromisoformat(body["expires_at"]).timestamp()
    assert expires == pytest.approx(clock() + SESSION_TTL_S, abs=0.01)
    auth = {"Authorization": f"Bearer {body['token']}"}
    me = client.get("/api/v1/auth/me", headers=auth).json()
    assert me["username"] == "lan" and me["role"] == "controller"
    assert client.post("/api/v1/auth/logout", headers=auth).status_code == 204
    is_problem(client.get("/api/v1/auth/me", headers=auth), 401)


def test_bad_credentials_are_one_401_and_audited(client: TestClient) -> None:
    ensure_user(client.app, "viewer", "minh")  # type: ignore[arg-type]
    wrong = is_problem(
        client.post("/api/v1/auth/login", json={"username": "minh", "password": "nope-nope"}), 401
    )
    unknown = is_problem(
        client.post("/api/v1/auth/login", json={"username": "ghost", "password": "nope-nope"}),
        401,
    )
    assert wrong["detail"] == unknown["detail"]
    is_problem(client.post("/api/v1/auth/login", json={"username": "minh"}), 422)
    is_problem(client.get("/api/v1/vehicles", headers={"Authorization": "Bearer forged"}), 401)
    log = client.get("/api/v1/audit", headers=headers(client, "admin")).json()["entries"]
    failed = [e for e in log if e["action"] == "auth.login" and e["result"] == "error"]
    assert {e["username"] for e in failed} == {"minh", "ghost"}


def test_a_session_expires(client: TestClient, clock: Clock) -> None:
    auth = headers(client, "viewer")
    assert client.get("/api/v1/vehicles", headers=auth).status_code == 200
    clock.advance(SESSION_TTL_S - 1)
    assert client.get("/api/v1/vehicles", headers=auth).status_code == 200
    clock.advance(2)
    body = is_problem(client.get("/api/v1/vehicles", headers=auth), 401)
    assert "expired" in str(body["detail"])


def test_only_admins_manage_users(client: TestClient) -> None:
    admin, controller = headers(client, "admin"), headers(client, "controller")
    new = {"username": "thu", "password": "a long enough one", "role": "viewer"}
    is_problem(client.post("/api/v1/users", json=new, headers=controller), 403)
    is_problem(client.get("/api/v1/users", headers=controller), 403)
    r = client.post("/api/v1/users", json=new, headers=admin)
    assert r.status_code == 201 and r.json()["username"] == "thu"
    is_problem(client.post("/api/v1/users", json=new, headers=admin), 409)
    for bad in (
        {**new, "username": "Thu Nguyen"},
        {**new, "password": "short"},
        {**new, "role": "root"},
        {**new, "extra": 1},
    ):
        is_problem(client.post("/api/v1/users", json=bad, headers=admin), 422)
    users = {u["username"]: u["role"] for u in client.get("/api/v1/users", headers=admin).json()}
    assert users == {"admin": "admin", "controller": "controller", "thu": "viewer"}
    login = client.post("/api/v1/auth/login", json={"username": "thu", "password": new["password"]})
    assert login.json()["user"] == {"username": "thu", "role": "viewer"}
    log = client.get("/api/v1/audit", headers=admin).json()["entries"]
    creations = [(e["target"], e["result"]) for e in log if e["action"] == "user.create"]
    assert creations.count(("thu", "ok")) == 1 and ("thu", "error") in creations


def test_passwords_are_argon2_hashed_and_tokens_not_stored(store: Store) -> None:
    auth = Auth(store.engine, hasher=FAST_HASHER)
    auth.create_user("hoa", "s3cret-pass", "viewer")
    who = auth.login("hoa", "s3cret-pass")
    assert who is not None
    with store.engine.connect() as conn:
        (h,) = conn.exec_driver_sql("SELECT password_hash FROM users").one()
        tokens = [t for (t,) in conn.exec_driver_sql("SELECT token_sha256 FROM sessions")]
    assert h.startswith("$argon2id$") and "s3cret-pass" not in h
    assert who.token not in tokens and len(tokens) == 1


def test_demo_admin_is_created_once(store: Store) -> None:
    password = ensure_demo_admin(store)
    assert password is not None and len(password) >= 12
    assert Auth(store.engine).login("admin", password) is not None
    assert ensure_demo_admin(store) is None
