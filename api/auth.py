"""Who may call what: bearer-token logins, role checks and the audit of every action.

Every ``/api/v1`` route except health and login depends on :func:`logged_in`
(401 without a valid session). Control actions run through
:meth:`Operators.act`, which checks the role, runs the action and writes one
audit entry with its result, refusals (403, 404, 409) included, so the log
answers "who tried what, when, and what happened".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, Literal, TypeVar

from fastapi import APIRouter, Depends, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException

from smartgate.operators.accounts import (
    ROLES,
    Auth,
    AuthError,
    Principal,
    UserExists,
    role_at_least,
)
from smartgate.operators.alarms import AlarmBook
from smartgate.operators.audit import AuditLog

T = TypeVar("T")
Role = Literal["viewer", "controller", "admin"]

bearer = HTTPBearer(
    auto_error=False,
    description="A session token from POST /api/v1/auth/login.",
)


def iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).isoformat(timespec="milliseconds")


class ActionFailed(Exception):
    """An action refused with an HTTP status; audited as an error, then answered."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


@dataclass
class Operators:
    """The operator-facing services the API handlers share (on ``app.state.ops``)."""

    auth: Auth
    audit: AuditLog
    alarms: AlarmBook

    def act(
        self,
        who: Principal,
        needed: str,
        action: str,
        target: str | None,
        params: dict[str, Any],
        run: Callable[[], T],
        errors: dict[type[Exception], int] | None = None,
    ) -> T:
        """Authorise, run and audit one action; map ``errors`` to HTTP statuses."""
        if not role_at_least(who.role, needed):
            detail = f"role {who.role!r} may not {action} (needs {needed})"
            self._audit(who, action, target, params, "error", f"403: {detail}")
            raise HTTPException(403, detail)
        try:
            result = run()
        except ActionFailed as e:
            self._audit(who, action, target, params, "error", f"{e.status}: {e.detail}")
            raise HTTPException(e.status, e.detail) from None
        except Exception as e:
            for kind, status in (errors or {}).items():
                if isinstance(e, kind):
                    self._audit(who, action, target, params, "error", f"{status}: {e}")
                    raise HTTPException(status, str(e)) from None
            self._audit(who, action, target, params, "error", f"500: {type(e).__name__}")
            raise
        self._audit(who, action, target, params, "ok", "")
        return result

    def _audit(
        self,
        who: Principal | None,
        action: str,
        target: str | None,
        params: dict[str, Any],
        result: str,
        detail: str,
        username: str | None = None,
    ) -> None:
        self.audit.append(
            username=who.username if who else username,
            role=who.role if who else None,
            action=action,
            target=target,
            params=params,
            result=result,
            detail=detail,
        )


def ops_of(request: Request) -> Operators:
    ops: Operators = request.app.state.ops
    return ops


def unauthorized(detail: str) -> HTTPException:
    return HTTPException(401, detail, headers={"WWW-Authenticate": "Bearer"})


def logged_in(
    request: Request,
    cred: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    """The caller's session; 401 if there is none or it expired."""
    if cred is None:
        raise unauthorized("log in first: Authorization: Bearer <token>")
    who = ops_of(request).auth.resolve(cred.credentials)
    if who is None:
        raise unauthorized("session unknown or expired: log in again")
    return who


def require(role: str) -> Callable[[Principal], Principal]:
    """A dependency: logged in with at least ``role`` (403 otherwise)."""

    def check(who: Annotated[Principal, Depends(logged_in)]) -> Principal:
        if not role_at_least(who.role, role):
            raise HTTPException(403, f"role {who.role!r} may not do this (needs {role})")
        return who

    return check


User = Annotated[Principal, Depends(logged_in)]
Admin = Annotated[Principal, Depends(require("admin"))]
Ops = Annotated[Operators, Depends(ops_of)]


# -- bodies and answers --------------------------------------------------------
class Credentials(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: Annotated[str, Field(min_length=1, max_length=64)]
    password: Annotated[str, Field(min_length=1, max_length=256)]


class UserOut(BaseModel):
    username: str
    role: Role


class LoginOut(BaseModel):
    token: str
    expires_at: str = Field(description="ISO 8601, UTC")
    user: UserOut


class MeOut(UserOut):
    expires_at: str


class NewUser(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_.-]{0,63}$")]
    password: Annotated[str, Field(min_length=8, max_length=256)]
    role: Role


class UserRecord(UserOut):
    created_at: str


def auth_router() -> APIRouter:
    router = APIRouter(tags=["auth"])

    @router.post(
        "/auth/login",
        summary="Log in",
        responses={401: {"description": "Unknown user or wrong password"}},
    )
    def login(body: Credentials, ops: Ops) -> LoginOut:
        """Exchange a username and password for a session token (expires; see ``expires_at``).

        The same 401 answers an unknown user and a wrong password.
        """
        who = ops.auth.login(body.username, body.password)
        if who is None:
            ops._audit(
                None, "auth.login", body.username, {}, "error", "401", username=body.username
            )
            raise unauthorized("wrong username or password")
        ops._audit(who, "auth.login", who.username, {}, "ok", "")
        return LoginOut(
            token=who.token,
            expires_at=iso(who.expires_at),
            user=UserOut(username=who.username, role=who.role),  # type: ignore[arg-type]
        )

    @router.post("/auth/logout", status_code=204, summary="Log out")
    def logout(who: User, ops: Ops) -> Response:
        """End this session: its token stops working at once."""
        ops.auth.logout(who.token)
        ops._audit(who, "auth.logout", who.username, {}, "ok", "")
        return Response(status_code=204)

    @router.get("/auth/me", summary="Who am I")
    def me(who: User) -> MeOut:
        """The logged-in user, role and when the session expires."""
        return MeOut(username=who.username, role=who.role, expires_at=iso(who.expires_at))  # type: ignore[arg-type]

    @router.get("/users", tags=["users"], summary="List users (admin)")
    def users(who: Admin, ops: Ops) -> list[UserRecord]:
        """Every account and its role (never the password hash)."""
        return [
            UserRecord(username=u["username"], role=u["role"], created_at=iso(u["created_at"]))
            for u in ops.auth.users()
        ]

    @router.post(
        "/users",
        tags=["users"],
        status_code=201,
        summary="Create a user (admin)",
        responses={409: {"description": "The username is taken"}},
    )
    def create_user(body: NewUser, who: User, ops: Ops) -> UserRecord:
        """Create an account with a role: viewer, controller or admin. Audited."""
        u = ops.act(
            who,
            "admin",
            "user.create",
            body.username,
            {"role": body.role},
            lambda: ops.auth.create_user(body.username, body.password, body.role),
            {UserExists: 409, AuthError: 422},
        )
        return UserRecord(username=u["username"], role=u["role"], created_at=iso(u["created_at"]))

    return router


__all__ = ["ROLES", "Operators", "auth_router", "logged_in", "require"]
