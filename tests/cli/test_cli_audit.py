"""``refund-hub audit verify`` and ``audit export``: a clean trail verifies, a tampered one fails
(SQLite and PostgreSQL); an export verifies offline — with the hub's command and with openssl —
and fails once a byte of it changes."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner, Result

from hub.cli.main import main
from hub.db.tables import audit as audit_table
from hub.ledger import audit
from hub.runtime.bootstrap import Hub, bootstrap
from hub.runtime.config import load_config
from hub.runtime.crypto import SecretBox
from tests.conftest import PG_URL

KEY = SecretBox.generate_key()


def config_file(tmp_path: Path, database_url: str) -> Path:
    path = tmp_path / "refund-hub.toml"
    path.write_text(
        f'[hub]\ninstance_path = "{tmp_path / "instance"}"\nsecret_keys = ["{KEY}"]\ndatabase_url = "{database_url}"\n'
    )
    return path


def run(config: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["--config", str(config), "audit", *args], catch_exceptions=False)


@pytest.fixture
def sqlite_setup(tmp_path: Path) -> tuple[Path, Hub]:
    config = config_file(tmp_path, f"sqlite:///{tmp_path / 'hub.db'}")
    return config, bootstrap(load_config(config, env={}))


def seed(hub: Hub, store: str = "s1", count: int = 4) -> None:
    with hub.engine.begin() as conn:
        for n in range(count):
            audit.write(conn, "worker", "noted", store_id=store, n=n)
        audit.write(conn, "cli", "replayed")


def tamper(hub: Hub) -> None:
    with hub.engine.begin() as conn:
        if hub.engine.dialect.name == "postgresql":
            conn.execute(sa.text("DROP TRIGGER audit_no_change ON audit"))
        else:
            conn.execute(sa.text("DROP TRIGGER audit_no_update"))
        second = conn.execute(sa.select(audit_table.c.id).where(audit_table.c.seq == 2, audit_table.c.chain == "s1"))
        conn.execute(sa.update(audit_table).where(audit_table.c.id == second.scalar_one()).values(actor="someone"))


def test_verify_passes_on_a_clean_trail_and_fails_on_an_edited_entry(sqlite_setup: tuple[Path, Hub]) -> None:
    config, hub = sqlite_setup
    seed(hub)
    clean = run(config, "verify")
    assert clean.exit_code == 0
    assert "s1: 4 checked (entries 1..4) — ok" in clean.output
    assert "audit trail verified" in clean.output
    tamper(hub)
    broken = run(config, "verify", "--store", "s1")
    assert broken.exit_code == 1
    assert "was changed after it was written" in broken.output
    assert "audit trail FAILED verification" in broken.output


@pytest.mark.postgres
def test_verify_fails_on_an_edited_entry_on_postgres(tmp_path: Path, pg_available: bool) -> None:
    from tests.conftest import private_schema

    with private_schema(pg_available) as schema:
        url = f"{PG_URL}?options=-csearch_path%3D{schema}"
        config = config_file(tmp_path, url)
        hub = bootstrap(load_config(config, env={}))
        try:
            seed(hub)
            assert run(config, "verify").exit_code == 0
            tamper(hub)
            broken = run(config, "verify")
            assert broken.exit_code == 1
            assert "entry 2 (id 2) was changed after it was written" in broken.output
        finally:
            hub.engine.dispose()


def test_verify_says_where_the_chain_starts_when_older_entries_exist(sqlite_setup: tuple[Path, Hub]) -> None:
    config, hub = sqlite_setup
    with hub.engine.begin() as conn:
        conn.execute(sa.insert(audit_table).values(at=sa.func.now(), actor="worker", action="requested", detail={}))
    seed(hub, count=1)
    result = run(config, "verify")
    assert result.exit_code == 0
    assert "1 entries from before the chain (ids up to 1) are not covered" in result.output


def export(config: Path, out: Path, *extra: str) -> Result:
    result = run(config, "export", "--store", "s1", "--since", "1d", "--out", str(out), *extra)
    assert result.exit_code == 0, result.output
    return result


def test_an_export_verifies_offline_and_names_the_key(sqlite_setup: tuple[Path, Hub], tmp_path: Path) -> None:
    config, hub = sqlite_setup
    seed(hub)
    out = tmp_path / "export"
    export(config, out)
    manifest = json.loads((out / "manifest.json").read_text())
    assert (manifest["store"], manifest["entries"], manifest["first_seq"], manifest["last_seq"]) == ("s1", 4, 1, 4)
    assert manifest["last_hash"] == manifest["head_hash"]
    pinned = run(config, "public-key").output.splitlines()[0]
    assert pinned == manifest["public_key"]
    checked = CliRunner().invoke(main, ["audit", "verify-export", str(out), "--public-key", pinned])
    assert checked.exit_code == 0, checked.output
    assert "export verified" in checked.output
    assert len((out / "entries.jsonl").read_text().splitlines()) == 4


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is not installed")
def test_openssl_checks_the_signature_as_the_docs_say(sqlite_setup: tuple[Path, Hub], tmp_path: Path) -> None:
    config, hub = sqlite_setup
    seed(hub)
    out = tmp_path / "export"
    export(config, out)
    (out / "manifest.sig.bin").write_bytes(base64.b64decode((out / "manifest.sig").read_text()))

    def openssl_verify() -> subprocess.CompletedProcess[str]:
        command = ["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", "public-key.pem", "-rawin"]
        command += ["-in", "manifest.json", "-sigfile", "manifest.sig.bin"]
        return subprocess.run(command, cwd=out, capture_output=True, text=True, check=False)

    assert openssl_verify().returncode == 0
    (out / "manifest.json").write_text((out / "manifest.json").read_text().replace('"entries": 4', '"entries": 3'))
    assert openssl_verify().returncode != 0


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda lines: [lines[0], lines[2], lines[3]], "entries 2..2 are missing (removed)"),
        (lambda lines: [lines[0], lines[2], lines[1], lines[3]], "repeats or goes back in the chain (reordered)"),
        (lambda lines: [lines[0], lines[1].replace('"n":1', '"n":9'), *lines[2:]], "was changed after it was written"),
    ],
    ids=["deleted", "reordered", "edited"],
)
def test_a_changed_export_fails(sqlite_setup: tuple[Path, Hub], tmp_path: Path, change: Any, problem: str) -> None:
    config, hub = sqlite_setup
    seed(hub)
    out = tmp_path / "export"
    export(config, out)
    lines = (out / "entries.jsonl").read_text().splitlines()
    (out / "entries.jsonl").write_text("\n".join(change(lines)) + "\n")
    checked = CliRunner().invoke(main, ["audit", "verify-export", str(out)])
    assert checked.exit_code == 1
    assert problem in checked.output
    assert "is not the file the manifest signed" in checked.output


def test_an_export_signed_by_another_key_fails_against_the_pinned_one(
    sqlite_setup: tuple[Path, Hub], tmp_path: Path
) -> None:
    config, hub = sqlite_setup
    seed(hub)
    out = tmp_path / "export"
    export(config, out)
    other = base64.b64encode(bytes(32)).decode()
    checked = CliRunner().invoke(main, ["audit", "verify-export", str(out), "--public-key", other])
    assert checked.exit_code == 1
    assert "signature does not match" in checked.output


def test_an_export_of_a_period_is_a_contiguous_run_linking_to_the_entry_before(
    sqlite_setup: tuple[Path, Hub], tmp_path: Path
) -> None:
    config, hub = sqlite_setup
    seed(hub)
    with hub.engine.connect() as conn:
        third = conn.execute(
            sa.select(audit_table.c.at, audit_table.c.prev_hash).where(
                audit_table.c.chain == "s1", audit_table.c.seq == 3
            )
        ).one()
    since = third.at.isoformat()
    out = tmp_path / "export"
    result = run(config, "export", "--store", "s1", "--since", since, "--out", str(out))
    assert result.exit_code == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert (manifest["first_seq"], manifest["last_seq"], manifest["first_prev_hash"]) == (3, 4, third.prev_hash)
    assert CliRunner().invoke(main, ["audit", "verify-export", str(out)]).exit_code == 0
