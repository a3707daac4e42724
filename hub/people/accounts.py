"""Who is asking: a person logging in (password, optional TOTP, throttled), a person's API token
with its scopes, or the operator's bootstrap token — each becomes a ``Principal`` whose store
scope every ledger query is filtered by, and whose name the audit trail records."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from hub.ledger import people
from hub.ledger.people import ALL_STORES, StoreScope, User
from hub.ledger.unit import Engine, Unit, read, write
from hub.people import roles
from hub.people.secrets import (
    hash_password,
    needs_rehash,
    new_token,
    password_matches,
    token_digest,
    totp_matches,
)
from hub.runtime.crypto import SecretBox

MAX_FAILURES = 5  # per e-mail within the window, then the account waits
MAX_FAILURES_PER_ADDRESS = 20  # per client address within the window
WINDOW = timedelta(minutes=15)
TOTP_KEY = "totp"


class LoginRefused(Exception):
    """Wrong credentials, a missing second factor, or too many attempts: one message for all."""

    def __init__(self, reason: str, *, needs_code: bool = False) -> None:
        super().__init__(reason)
        self.needs_code = needs_code


@dataclass(frozen=True)
class Principal:
    """Who acts: what they may do (scopes) and on which stores."""

    actor: str  # what the audit trail records: user:<email> | operator
    user_id: str | None
    role: str
    scopes: frozenset[str]
    stores: StoreScope
    name: str = ""

    def may(self, scope: str) -> bool:
        return scope in self.scopes


OPERATOR = Principal("operator", None, "owner", roles.EVERY_SCOPE, ALL_STORES, "operator (bootstrap token)")


class Accounts:
    def __init__(self, engine: Engine, box: SecretBox) -> None:
        self.engine = engine
        self.box = box

    def add_user(self, email: str, name: str, role: str, password: str) -> User:
        if role not in roles.ROLES:
            raise ValueError(f"role must be one of {', '.join(roles.ROLES)}")
        with write(self.engine) as conn:
            return people.add_user(
                conn, email=_email(email), name=name, role=role, password_hash=hash_password(password)
            )

    def grant(self, email: str, connector: str, store_id: str) -> None:
        with write(self.engine) as conn:
            people.grant(conn, self._user(conn, email).id, connector, store_id)

    def revoke(self, email: str, connector: str, store_id: str) -> int:
        with write(self.engine) as conn:
            return people.revoke(conn, self._user(conn, email).id, connector, store_id)

    def set_totp(self, email: str, secret: str | None) -> None:
        with write(self.engine) as conn:
            sealed = self.box.seal({TOTP_KEY: secret}) if secret else None
            people.update_user(conn, self._user(conn, email).id, totp_secret=sealed, end_sessions=True)

    def issue_token(self, email: str, name: str, scopes: Iterable[str]) -> str:
        """A new API token (shown once); its scopes must lie within the user's role."""
        with write(self.engine) as conn:
            user = self._user(conn, email)
            wanted = frozenset(scopes) or roles.permissions(user.role)
            beyond = wanted - roles.permissions(user.role)
            if beyond:
                raise ValueError(f"a {user.role} cannot hold {', '.join(sorted(beyond))}")
            token, digest = new_token()
            people.add_token(conn, user.id, name, digest, wanted)
            return token

    def login(self, email: str, password: str, code: str | None, address: str) -> User:
        """The user, or ``LoginRefused``; failures are counted per e-mail and per address."""
        email = _email(email)
        with write(self.engine) as conn:
            if (
                people.attempts(conn, f"login:{email}") >= MAX_FAILURES
                or people.attempts(conn, f"login-ip:{address}") >= MAX_FAILURES_PER_ADDRESS
            ):
                raise LoginRefused("too many attempts; wait 15 minutes")
            user = people.user_by_email(conn, email)
        if not password_matches(user.password_hash if user and user.active else None, password):
            self._failed(email, address)
            raise LoginRefused("wrong e-mail or password")
        assert user is not None
        if user.totp_secret:
            secret = self.box.open(user.totp_secret)[TOTP_KEY]
            if not code:
                raise LoginRefused("enter the code from your authenticator app", needs_code=True)
            if not totp_matches(secret, code):
                self._failed(email, address)
                raise LoginRefused("wrong code", needs_code=True)
        with write(self.engine) as conn:
            people.clear_attempts(conn, f"login:{email}")
            values: dict[str, object] = {"last_login_at": datetime.now(UTC)}
            if needs_rehash(user.password_hash):
                values["password_hash"] = hash_password(password)
            people.update_user(conn, user.id, **values)
        return user

    def change_password(self, user_id: str, current: str, new: str) -> int:
        """The person's new password, when ``current`` is theirs (attempts counted like logins);
        every other session of theirs ends. Returns the new session epoch for the session that asked."""
        with read(self.engine) as conn:
            user = people.user_by_id(conn, user_id)
            if user is None or not user.active:
                raise LookupError("no such person")
            if people.attempts(conn, f"login:{user.email}") >= MAX_FAILURES:
                raise LoginRefused("too many attempts; wait 15 minutes")
        if not password_matches(user.password_hash, current):
            with write(self.engine) as conn:
                people.count_attempt(conn, f"login:{user.email}", WINDOW)
            raise LoginRefused("your current password is not that")
        if new == current:
            raise ValueError("the new password must differ from the current one")
        hashed = hash_password(new)  # ValueError when too short
        with write(self.engine) as conn:
            people.update_user(conn, user.id, password_hash=hashed, end_sessions=True)
            changed = people.user_by_id(conn, user.id)
        assert changed is not None
        return changed.session_epoch

    def _failed(self, email: str, address: str) -> None:
        with write(self.engine) as conn:
            people.count_attempt(conn, f"login:{email}", WINDOW)
            people.count_attempt(conn, f"login-ip:{address}", WINDOW)

    def principal_of_user(self, user_id: str, epoch: int | None = None) -> Principal | None:
        """A session's principal; None if the user is gone, inactive, or the session is older
        than the user's session epoch (password change, logout everywhere)."""
        with read(self.engine) as conn:
            user = people.user_by_id(conn, user_id)
            if user is None or not user.active or (epoch is not None and epoch != user.session_epoch):
                return None
            scope = people.scope_of(conn, user.id)
        return Principal(f"user:{user.email}", user.id, user.role, roles.permissions(user.role), scope, user.name)

    def principal_of_token(self, token: str) -> Principal | None:
        with read(self.engine) as conn:
            found = people.token_by_hash(conn, token_digest(token))
        if found is None:
            return None
        principal = self.principal_of_user(found.user_id)
        if principal is None:
            return None
        with write(self.engine) as conn:
            people.touch_token(conn, found.id)
        return Principal(
            principal.actor,
            principal.user_id,
            principal.role,
            found.scopes & principal.scopes,
            principal.stores,
            principal.name,
        )

    def _user(self, conn: Unit, email: str) -> User:
        user = people.user_by_email(conn, _email(email))
        if user is None:
            raise LookupError(f"no user {email}")
        return user


def _email(email: str) -> str:
    return email.strip().lower()
