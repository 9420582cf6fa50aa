"""Operator accounts and login sessions (users, roles, expiring bearer tokens).

Passwords are hashed with argon2id (argon2-cffi); a session token is a random
secret handed to the client once and stored only as its SHA-256, so a copy of
the database does not let anyone log in. Sessions expire after ``ttl_s``; time
comes from an injected clock so expiry is testable without sleeping.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from smartgate.storage.tables import SessionRow, UserRow

if TYPE_CHECKING:
    from smartgate.storage.store import Store

ROLES = ("viewer", "controller", "admin")  # each includes the rights of those before it
USERNAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")
MIN_PASSWORD = 8
SESSION_TTL_S = 8 * 3600.0  # one control-room shift


class AuthError(ValueError):
    """A request about accounts that is refused; the message is safe to show."""


class UserExists(AuthError):
    pass


def role_at_least(role: str, needed: str) -> bool:
    return ROLES.index(role) >= ROLES.index(needed)


@dataclass(frozen=True)
class Principal:
    """Who is calling: the user behind a valid, unexpired session."""

    username: str
    role: str
    expires_at: float
    token: str


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Auth:
    def __init__(
        self,
        engine: Engine,
        *,
        clock: Callable[[], float] = time.time,
        ttl_s: float = SESSION_TTL_S,
        hasher: PasswordHasher | None = None,
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.ttl_s = ttl_s
        self.hasher = hasher or PasswordHasher()
        # Verified against for unknown users, so both failures take the same time.
        self._dummy = self.hasher.hash(secrets.token_urlsafe(16))

    def create_user(self, username: str, password: str, role: str) -> dict[str, Any]:
        if not USERNAME.match(username):
            raise AuthError("username: 1-64 of a-z 0-9 _ . - (lower case, starting alphanumeric)")
        if role not in ROLES:
            raise AuthError(f"role must be one of {', '.join(ROLES)}")
        if len(password) < MIN_PASSWORD:
            raise AuthError(f"password must have at least {MIN_PASSWORD} characters")
        created = self.clock()
        row = UserRow(
            username=username,
            role=role,
            password_hash=self.hasher.hash(password),
            created_at=created,
        )
        try:
            with Session(self.engine) as s, s.begin():
                s.add(row)
        except IntegrityError:
            raise UserExists(f"user {username!r} already exists") from None
        return {"username": username, "role": role, "created_at": created}

    def users(self) -> list[dict[str, Any]]:
        with Session(self.engine) as s:
            rows = s.scalars(select(UserRow).order_by(UserRow.username)).all()
            return [
                {"username": r.username, "role": r.role, "created_at": r.created_at} for r in rows
            ]

    def has_role(self, role: str) -> bool:
        with Session(self.engine) as s:
            return s.scalar(select(UserRow.username).where(UserRow.role == role)) is not None

    def login(self, username: str, password: str) -> Principal | None:
        """A new session, or None for an unknown user or a wrong password (alike)."""
        with Session(self.engine) as s:
            user = s.get(UserRow, username)
            stored = user.password_hash if user else self._dummy
            try:
                self.hasher.verify(stored, password)
            except (VerificationError, InvalidHashError):
                return None
            if user is None:
                return None
            role = user.role
        token = secrets.token_urlsafe(32)
        now = self.clock()
        with Session(self.engine) as s, s.begin():
            s.execute(delete(SessionRow).where(SessionRow.expires_at <= now))  # housekeeping
            s.add(
                SessionRow(
                    token_sha256=_digest(token),
                    username=username,
                    created_at=now,
                    expires_at=now + self.ttl_s,
                )
            )
        return Principal(username, role, now + self.ttl_s, token)

    def resolve(self, token: str) -> Principal | None:
        """The session's user, or None if the token is unknown or expired."""
        with Session(self.engine) as s:
            row = s.get(SessionRow, _digest(token))
            if row is None or row.expires_at <= self.clock():
                return None
            user = s.get(UserRow, row.username)
            if user is None:
                return None
            return Principal(user.username, user.role, row.expires_at, token)

    def logout(self, token: str) -> None:
        with Session(self.engine) as s, s.begin():
            s.execute(delete(SessionRow).where(SessionRow.token_sha256 == _digest(token)))


def ensure_demo_admin(store: Store, username: str = "admin") -> str | None:
    """Create ``admin`` with a random password if there is no admin yet; return it.

    The demo prints the password once; it is never stored in clear.
    """
    auth = Auth(store.engine)
    if auth.has_role("admin"):
        return None
    password = secrets.token_urlsafe(12)
    auth.create_user(username, password, "admin")
    return password
