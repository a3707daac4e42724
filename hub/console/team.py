"""Managing the people of one's stores from the console, and one's own API tokens.

Roles are per account, not per store, so a change reaches every store the person works on: an
owner may change a person only when all of that person's stores lie within the owner's own
scope (else an owner of one store could promote someone on another tenant's store), and never
themself (no one locks the last owner out by a slip). A new person gets a one-time password
shown once to the owner who added them; every step is audited with the owner as actor and the
person's user id (e-mail addresses never reach the audit trail)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from hub.ledger import audit, people, team
from hub.ledger.people import EVERY, StoreScope, Token, User
from hub.ledger.unit import Unit, read, write
from hub.people import roles
from hub.people.accounts import Principal
from hub.people.secrets import hash_password, new_token
from hub.runtime.bootstrap import Hub

OUTSIDE = "They also work on stores you cannot see: an owner of all their stores can change them."
YOURSELF = "This is you: another owner changes your role or access."


class TeamError(ValueError):
    """A change refused, in words the owner reads."""


@dataclass(frozen=True)
class Person:
    """An account as an owner sees it: only the grants on stores the owner can see."""

    user: User
    stores: tuple[tuple[str, str], ...]
    everywhere: bool  # granted every store
    refused: str | None  # why this owner cannot change them (None: they can)


def _scope(grants: tuple[tuple[str, str], ...]) -> StoreScope:
    if (EVERY, EVERY) in grants:
        return StoreScope(everything=True)
    return StoreScope(stores=frozenset(grants))


def _refused(who: Principal, member: team.Member) -> str | None:
    if member.user.id == who.user_id:
        return YOURSELF
    if who.stores.everything:
        return None
    for connector, store_id in member.grants:
        if connector == EVERY or not who.stores.allows(connector, store_id):
            return OUTSIDE
    return None


def people_of(hub: Hub, who: Principal, stores: list[tuple[str, str]]) -> list[Person]:
    """The people who can see at least one of ``stores`` (the owner's), or every account for an
    owner of every store (people without a grant yet included)."""
    with read(hub.engine) as conn:
        found = team.members(conn)
    out = []
    for member in found:
        scope = _scope(member.grants)
        mine = tuple(s for s in stores if scope.allows(*s))
        if mine or who.stores.everything:
            out.append(Person(member.user, mine, scope.everything, _refused(who, member)))
    return out


def _member(conn: Unit, who: Principal, user_id: str) -> team.Member:
    found = next((m for m in team.members(conn) if m.user.id == user_id), None)
    if found is None:
        raise LookupError(user_id)
    refused = _refused(who, found)
    if refused:
        raise TeamError(refused)
    return found


@dataclass(frozen=True)
class Added:
    user: User
    password: str | None  # the one-time password of a new account, shown once; None: it existed
    granted: tuple[tuple[str, str], ...]


def add(hub: Hub, who: Principal, email: str, name: str, role: str, stores: list[tuple[str, str]]) -> Added:
    """A new account with ``role`` on ``stores``, or those stores granted to an existing one
    (whose role stays: it would change on their other stores too)."""
    email = email.strip().lower()
    if "@" not in email or len(email) > 320 or email.startswith("@") or email.endswith("@"):
        raise TeamError("Enter the person's e-mail address.")
    if role not in roles.ROLES:
        raise TeamError(f"Choose a role: {', '.join(roles.ROLES)}.")
    if not stores:
        raise TeamError("Choose at least one store they work on.")
    password = None
    with write(hub.engine) as conn:
        user = people.user_by_email(conn, email)
        if user is None:
            password = secrets.token_urlsafe(12)  # 16 characters, above the 12 a password needs
            user = people.add_user(
                conn, email=email, name=name.strip()[:255], role=role, password_hash=hash_password(password)
            )
            audit.write(conn, who.actor, "user_added", user_id=user.id, role=role)
        for connector, store_id in stores:
            people.grant(conn, user.id, connector, store_id)
            audit.write(conn, who.actor, "user_granted", user_id=user.id, connector=connector, store_id=store_id)
    return Added(user, password, tuple(stores))


def change_role(hub: Hub, who: Principal, user_id: str, role: str) -> User:
    if role not in roles.ROLES:
        raise TeamError(f"Choose a role: {', '.join(roles.ROLES)}.")
    with write(hub.engine) as conn:
        member = _member(conn, who, user_id)
        if member.user.role == role:
            raise TeamError(f"{member.user.email} is {role} already.")
        people.update_user(conn, user_id, role=role)
        audit.write(conn, who.actor, "user_role_changed", user_id=user_id, role=role, was=member.user.role)
        return member.user


def set_active(hub: Hub, who: Principal, user_id: str, active: bool) -> User:
    """Disabling ends the person's sessions; their tokens stop working with their account."""
    with write(hub.engine) as conn:
        member = _member(conn, who, user_id)
        people.update_user(conn, user_id, active=active, end_sessions=not active)
        audit.write(conn, who.actor, "user_enabled" if active else "user_disabled", user_id=user_id)
        return member.user


def my_tokens(hub: Hub, who: Principal) -> list[Token]:
    if who.user_id is None:
        return []
    with read(hub.engine) as conn:
        return team.tokens_of(conn, who.user_id)


def issue_token(hub: Hub, who: Principal, name: str, scopes: list[str]) -> str:
    """A new token of one's own, returned once; its scopes lie within one's role."""
    if who.user_id is None:
        raise TeamError("Only a person signed in can hold API tokens.")
    name = name.strip()[:255]
    if not name:
        raise TeamError("Name the token after what will use it, e.g. “nightly export”.")
    wanted = frozenset(scopes)
    if not wanted:
        raise TeamError("Choose at least one permission.")
    beyond = wanted - who.scopes
    if beyond:
        raise TeamError(f"Your role cannot hand out {', '.join(sorted(beyond))}.")
    token, digest = new_token()
    with write(hub.engine) as conn:  # the token and its audit entry in one transaction
        issued = people.add_token(conn, who.user_id, name, digest, wanted)
        audit.write(conn, who.actor, "api_token_created", issued_id=issued, label=name, scopes=sorted(wanted))
    return token


def revoke_token(hub: Hub, who: Principal, token_id: str) -> None:
    with write(hub.engine) as conn:
        mine = who.user_id is not None and any(t.id == token_id for t in team.tokens_of(conn, who.user_id))
        if not mine:
            raise LookupError(token_id)
        if not people.revoke_token(conn, token_id):
            raise TeamError("That token is revoked already.")
        audit.write(conn, who.actor, "api_token_revoked", issued_id=token_id)
