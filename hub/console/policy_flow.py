"""A store's policy from the browser: draft → check → simulate → shadow → publish, each step
audited with the person who took it.

Where the live policy comes from: the newest version published here (``hub.ledger.policies``),
which ``Hub.policy_for`` hands to every step that decides. Until a store's first publish, it is the
policy the configuration names, and that first publish records the configuration's text as
version 1 so the history starts from what ran before. Stores that require two approvers
(``two_approvers_above`` in their settings, or ``policy_two_approvers = true``) publish only
when a second person checks the exact text the first one proposed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import tomli_w

from hub.ledger import audit, policies
from hub.ledger.policies import Draft, Version
from hub.ledger.unit import Unit, durable, read, write
from hub.people.accounts import Principal
from hub.policy.errors import PolicyError
from hub.runtime.bootstrap import Hub

if TYPE_CHECKING:
    from hub.policy import Policy

TWO_PEOPLE = "policy_two_approvers"


class FlowError(ValueError):
    """A step refused, in words the merchant reads."""


@dataclass(frozen=True)
class StorePolicy:
    """What the policy pages show of one store, read in one transaction."""

    connector: str
    store_id: str
    live: Policy
    live_version: Version | None  # None: the configuration's, nothing published yet
    configured: Policy
    versions: list[Version]
    draft: Draft | None
    two_people: bool

    @property
    def configuration_moved(self) -> bool:
        """The configuration's policy is no longer the version 1 taken from it (and is not live)."""
        return bool(self.versions) and self.versions[-1].label != self.configured.version != self.live.version


def two_people(hub: Hub, connector: str, store_id: str) -> bool:
    """Whether publishing needs a second person; a store whose settings cannot be read (disabled)
    gets the stricter answer."""
    directory = hub.stores.get(connector)
    store = directory.get(store_id) if directory is not None else None
    if store is None:
        return True
    if TWO_PEOPLE in store.settings:
        return bool(store.settings[TWO_PEOPLE])
    return store.settings.get("two_approvers_above") is not None


def store_policy(hub: Hub, connector: str, store_id: str) -> StorePolicy:
    configured = hub.configured_policy(connector, store_id)
    with read(hub.engine) as conn:
        found = policies.versions(conn, connector, store_id)
        draft = policies.draft(conn, connector, store_id)
    live = policies.policy_of_text(found[0].body) if found else configured
    return StorePolicy(
        connector,
        store_id,
        live,
        found[0] if found else None,
        configured,
        found,
        draft,
        two_people(hub, connector, store_id),
    )


def configured_text(hub: Hub, connector: str, store_id: str) -> str:
    """The configuration's policy for the store as TOML: the file itself when it is a TOML file
    that still reads as the running policy (comments kept), else the running policy written out."""
    policy = hub.configured_policy(connector, store_id)
    name = hub.stores[connector].policy_name(store_id) or "default"
    table = hub.config.policies.get(name) or {}
    if set(table) == {"file"}:
        path = Path(table["file"])
        base = Path(hub.config.source).parent if hub.config.source else Path.cwd()
        path = path if path.is_absolute() else base / path
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            text = ""
        if path.suffix.lower() == ".toml" and _version_of(text) == policy.version:
            return text
    heading = f"# The configuration's policy {name!r}, as the hub ran it before it was edited here.\n"
    return heading + tomli_w.dumps({str(k): _plain(v) for k, v in policy.source.items()})


def _plain(value: object) -> object:
    """Mappings and tuples of a loaded policy as the dicts and lists a TOML writer takes."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _version_of(text: str) -> str | None:
    try:
        return policies.policy_of_text(text).version
    except PolicyError:
        return None


def _where(connector: str, store_id: str) -> dict[str, str]:
    return {"connector": connector, "store_id": store_id}


def save_draft(hub: Hub, who: Principal, connector: str, store_id: str, text: str) -> None:
    """Saved whether valid or not (work in progress is never lost); only a valid text can be
    simulated, shadowed or published."""
    label = _version_of(text)
    with write(hub.engine) as conn:
        policies.save_draft(conn, connector, store_id, text, who.actor)
        audit.write(conn, who.actor, "policy_draft_saved", **_where(connector, store_id), label=label or "invalid")


def valid(text: str) -> Policy:
    try:
        return policies.policy_of_text(text)
    except PolicyError as exc:
        raise FlowError(f"The draft is not valid yet: {exc}. Fix it in the editor first.") from None


def start_shadow(hub: Hub, who: Principal, connector: str, store_id: str) -> Policy:
    with write(hub.engine) as conn:
        draft = _draft(conn, connector, store_id)
        policy = valid(draft.body)
        policies.start_shadow(conn, connector, store_id, draft.body, who.actor)
        audit.write(conn, who.actor, "policy_shadow_started", **_where(connector, store_id), label=policy.version)
    return policy


def stop_shadow(hub: Hub, who: Principal, connector: str, store_id: str) -> None:
    with write(hub.engine) as conn:
        draft = _draft(conn, connector, store_id)
        if draft.shadow_body is None:
            raise FlowError("No draft runs in shadow.")
        policies.stop_shadow(conn, connector, store_id)
        label = _version_of(draft.shadow_body)
        audit.write(conn, who.actor, "policy_shadow_stopped", **_where(connector, store_id), label=label)


def _draft(conn: Unit, connector: str, store_id: str) -> Draft:
    found = policies.draft(conn, connector, store_id)
    if found is None:
        raise FlowError("There is no draft yet: open the editor and save one.")
    return found


@dataclass(frozen=True)
class Published:
    """A new live version, or (``version`` None) a proposal waiting for its checker."""

    version: Version | None


def publish(hub: Hub, who: Principal, connector: str, store_id: str, note: str) -> Published:
    """Publish the saved draft, or, where two people are required, propose it for a checker."""
    two = two_people(hub, connector, store_id)
    seed = configured_text(hub, connector, store_id)
    with write(hub.engine) as conn:
        durable(conn)  # a person's act that changes how money moves: never lost in a crash
        draft = _draft(conn, connector, store_id)
        if draft.proposed_body is not None:
            raise FlowError("A proposal already waits for its checker: check it or withdraw it first.")
        policy = valid(draft.body)
        _refuse_live(conn, connector, store_id, policy, seed)
        if two:
            policies.propose(conn, connector, store_id, draft.body, by=who.actor, user=who.user_id, note=note)
            audit.write(
                conn,
                who.actor,
                "policy_publish_requested",
                **_where(connector, store_id),
                label=policy.version,
                note=note,
            )
            return Published(None)
        return Published(_publish(conn, connector, store_id, draft, draft.body, seed, by=who.actor, note=note))


def check_and_publish(hub: Hub, who: Principal, connector: str, store_id: str) -> Version:
    """The second person publishes exactly the proposed text; the proposer cannot be its checker."""
    seed = configured_text(hub, connector, store_id)
    with write(hub.engine) as conn:
        durable(conn)
        draft = _draft(conn, connector, store_id)
        if draft.proposed_body is None or draft.proposed_by is None:
            raise FlowError("Nothing waits for a checker.")
        if who.actor == draft.proposed_by or (who.user_id is not None and who.user_id == draft.proposed_user):
            raise FlowError("You proposed this version: a second, different person must check and publish it.")
        valid(draft.proposed_body)
        version = _publish(
            conn,
            connector,
            store_id,
            draft,
            draft.proposed_body,
            seed,
            by=draft.proposed_by,
            checked_by=who.actor,
            note=draft.proposed_note or "",
        )
        policies.clear_proposal(conn, connector, store_id)
    return version


def withdraw(hub: Hub, who: Principal, connector: str, store_id: str) -> None:
    with write(hub.engine) as conn:
        draft = _draft(conn, connector, store_id)
        if draft.proposed_body is None:
            raise FlowError("Nothing waits for a checker.")
        policies.clear_proposal(conn, connector, store_id)
        audit.write(
            conn,
            who.actor,
            "policy_publish_withdrawn",
            **_where(connector, store_id),
            label=_version_of(draft.proposed_body),
            proposed_by_user_id=draft.proposed_user,
        )


def _refuse_live(conn: Unit, connector: str, store_id: str, policy: Policy, seed: str) -> None:
    live = policies.live_version(conn, connector, store_id)
    if policy.version == (live.label if live is not None else _version_of(seed)):
        raise FlowError("The draft is the live policy already: change something first.")


def _publish(
    conn: Unit,
    connector: str,
    store_id: str,
    draft: Draft,
    body: str,
    seed: str,
    *,
    by: str,
    checked_by: str | None = None,
    note: str = "",
) -> Version:
    previous = policies.live_version(conn, connector, store_id)
    if previous is None:  # the first publish: what ran until now becomes version 1
        policies.seed(conn, connector, store_id, seed, valid(seed).version)
        previous = policies.live_version(conn, connector, store_id)
    version = policies.publish(conn, connector, store_id, body, by=by, checked_by=checked_by, note=note)
    if draft.shadow_body is not None and _version_of(draft.shadow_body) == version.label:
        policies.stop_shadow(conn, connector, store_id)  # what it shadowed is live now
    audit.write(
        conn,
        checked_by or by,
        "policy_published",
        **_where(connector, store_id),
        number=version.number,
        label=version.label,
        previous=previous.label if previous else None,
        checked=checked_by is not None,  # the actor checked what the maker proposed
        maker_user_id=draft.proposed_user if checked_by is not None else None,
        note=note,
    )
    return version
