"""A whole hub (sandbox platform and gateway) with people in it, for the console's tests; and a
real Chromium driven by Playwright (Debian's ``chromium`` package; never ``playwright install``)."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from hub.db.tables import refunds as refunds_table
from hub.ledger import states
from hub.ledger.unit import read, write
from tests.hub.conftest import STORE, World, make_world

PASSWORD = "correct horse battery staple"
OTHER_STORE = "other-store"
REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "artifacts" / "console"
CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")


@dataclass
class Shop:
    world: World

    @property
    def hub(self) -> Any:
        return self.world.hub.hub

    @property
    def url(self) -> str:
        return self.world.hub.url

    def person(self, email: str, role: str = "approver", stores: tuple[str, ...] = (STORE,)) -> str:
        self.hub.accounts.add_user(email, email.split("@")[0].capitalize(), role, PASSWORD)
        for store in stores:
            self.hub.accounts.grant(email, "sandbox", store)
        return email

    def user_id(self, email: str) -> str:
        from hub.ledger import people

        with read(self.hub.engine) as conn:
            user = people.user_by_email(conn, email)
        assert user is not None
        return user.id

    def two_approvers_above(self, minor: int) -> None:
        directory = self.hub.stores["sandbox"]
        store = directory.get(STORE)
        assert store is not None
        directory.save(STORE, settings={**store.settings, "two_approvers_above": minor}, credentials=store.credentials)

    def request(self, order_id: str, captured: int, asked: int) -> Any:
        """A refund asked for on a new order, decided by the store's policy (and carried out when approved)."""
        self.world.order(order_id, captured)
        self.world.platform.request_refund(order_id, asked, request_id=f"rq-{order_id}")
        self.world.hub.settle(senders=[self.world.platform.sender])
        [refund] = [r for r in self.world.hub.refunds() if r.order_id == order_id]
        return refund

    def in_review(self, order_id: str, captured: int = 1000, asked: int = 3500) -> Any:
        """A refund the policy sends to a person: more is asked than was captured."""
        refund = self.request(order_id, captured, asked)
        assert refund.state == states.REVIEW
        return refund

    def move_to_store(self, refund_id: str, store_id: str) -> None:
        """Another tenant's refund (the sandbox platform speaks for one store only)."""
        directory = self.hub.stores["sandbox"]
        store = directory.get(STORE)
        assert store is not None
        directory.save(store_id, settings=store.settings, credentials=store.credentials)
        with write(self.hub.engine) as conn:
            conn.execute(update(refunds_table).where(refunds_table.c.id == refund_id).values(store_id=store_id))

    def dead_letter(self) -> Any:
        """A signed delivery the connector cannot read: a dead letter at once."""
        from hub.work.runner import drain

        raw, headers = self.world.platform.webhook(
            "refund.requested", {"topic": "refund.requested", "order_id": "7007"}, send=False
        )
        assert self.world.post(raw, headers).status_code == 200
        drain(self.hub)
        [delivery] = [d for d in self.world.hub.deliveries() if d.status == "dead"]
        return delivery


@pytest.fixture
def shop(tmp_path: Path) -> Iterator[Shop]:
    for world in make_world(tmp_path):
        yield Shop(world)


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "the page has no CSRF token"
    return found.group(1)


def login(client: Any, email: str, password: str = PASSWORD, code: str | None = None) -> Any:
    """Sign in through the login form (CSRF token and all) with a Flask test client."""
    token = csrf_of(client.get("/login").text)
    data = {"email": email, "password": password, "csrf_token": token}
    if code is not None:
        data["code"] = code
    return client.post("/login", data=data)


def client_of(shop: Shop, email: str) -> Any:
    """A test client of its own (its own cookies) signed in as ``email``."""
    client = shop.world.hub.app.test_client()
    assert login(client, email).status_code == 302
    return client


# --- the browser ----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    if not CHROMIUM:
        pytest.skip("no Chromium binary (apt-get install chromium; .ci/run installs it)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("playwright is not installed (pip install -e '.[test]')")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-dev-shm-usage"])
        try:
            yield browser
        finally:
            browser.close()


class Shots:
    """Screenshots in the test's tmp dir; the last of each name copied to ``artifacts/console/``."""

    def __init__(self, folder: Path, prefix: str) -> None:
        self.folder = folder
        self.prefix = prefix
        folder.mkdir(parents=True, exist_ok=True)

    def __call__(self, page: Any, name: str, full_page: bool = True) -> Path:
        path = self.folder / f"{self.prefix}-{name}.png"
        page.screenshot(path=str(path), full_page=full_page)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, ARTIFACTS / path.name)
        return path


@pytest.fixture
def shots(tmp_path: Path, request: pytest.FixtureRequest) -> Shots:
    prefix = request.node.name.removeprefix("test_").replace("[", "-").replace("]", "")
    return Shots(tmp_path / "screenshots", prefix)


@pytest.fixture
def browse(chromium: Any) -> Iterator[Any]:
    """``browse(viewport=...)`` → a fresh page in its own context (its own cookies)."""
    contexts: list[Any] = []

    def open_page(width: int = 1280, height: int = 860, **options: Any) -> Any:
        context = chromium.new_context(viewport={"width": width, "height": height}, **options)
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


def sign_in(page: Any, base: str, email: str, password: str = PASSWORD) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r".*/queue"))
