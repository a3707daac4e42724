"""Version 1 of a store's policy is what ran before the console: the configuration's TOML file
itself (comments kept) while it still reads as the running policy, else the running policy
written out (an inline table, a YAML file, or a file edited since the hub started)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

from hub.console.policy_flow import configured_text
from hub.ledger.policies import policy_of_text
from hub.policy import load_policy

FILE_TEXT = '# our policy, agreed with the team\nversion = "2026-01"\n\n[amounts]\nreview_above = 80  # euros\n'


def _hub(tmp_path: Path, table: dict[str, Any], running: Any) -> Any:
    """What ``configured_text`` asks a hub: the configuration and the store's policy name."""
    directory = SimpleNamespace(policy_name=lambda store_id: "main")
    return SimpleNamespace(
        config=SimpleNamespace(policies={"main": table}, source=str(tmp_path / "refund-hub.toml")),
        stores={"sandbox": directory},
        configured_policy=lambda connector, store_id: running,
    )


def test_the_file_itself_while_it_reads_as_the_running_policy(tmp_path: Path) -> None:
    (tmp_path / "policy.toml").write_text(FILE_TEXT)
    running = load_policy(tmp_path / "policy.toml")
    assert configured_text(_hub(tmp_path, {"file": "policy.toml"}, running), "sandbox", "s1") == FILE_TEXT


def test_the_running_policy_written_out_when_the_file_moved_on(tmp_path: Path) -> None:
    (tmp_path / "policy.toml").write_text(FILE_TEXT)
    running = load_policy(tmp_path / "policy.toml")
    (tmp_path / "policy.toml").write_text(FILE_TEXT.replace("80", "90"))  # edited after the start
    text = configured_text(_hub(tmp_path, {"file": "policy.toml"}, running), "sandbox", "s1")
    assert text.startswith("# The configuration's policy 'main'")
    assert policy_of_text(text).version == running.version


def test_an_inline_table_is_written_out_as_toml(tmp_path: Path) -> None:
    table = {"version": "inline", "amounts": {"review_above": {"default": 250, "JPY": 40000}}, "fees": []}
    running = load_policy(table)
    text = configured_text(_hub(tmp_path, table, running), "sandbox", "s1")
    assert policy_of_text(text).version == running.version


def _store_settings(settings: dict[str, Any] | None) -> Any:
    store = None if settings is None else SimpleNamespace(settings=settings)
    return SimpleNamespace(stores={"sandbox": SimpleNamespace(get=lambda store_id: store)})


def test_two_people_publish_where_refunds_need_two_approvers_unless_the_store_says_otherwise() -> None:
    from hub.console.policy_flow import two_people

    assert two_people(_store_settings({"two_approvers_above": 50000}), "sandbox", "s1")
    assert not two_people(_store_settings({}), "sandbox", "s1")
    assert not two_people(
        _store_settings({"two_approvers_above": 50000, "policy_two_approvers": False}), "sandbox", "s1"
    )
    assert two_people(_store_settings({"policy_two_approvers": True}), "sandbox", "s1")
    assert two_people(_store_settings(None), "sandbox", "s1")  # a disabled store: the stricter answer
    assert two_people(_store_settings({}), "woocommerce", "s1")  # a connector not configured
