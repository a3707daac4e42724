"""The contract suite a plugin author runs against their connector or gateway.

Subclass ``ConnectorContract`` or ``GatewayContract`` in a test module and provide the
fixtures each names; pytest then runs every check below against your plugin::

    class TestMyConnector(ConnectorContract):
        @pytest.fixture
        def connector(self): ...
        @pytest.fixture
        def authentic(self): ...          # list[Inbound] the platform would send
        @pytest.fixture
        def tampered(self): ...           # list[Inbound] that must be refused
"""

from __future__ import annotations

import re
import uuid

import pytest

from hub.contracts import Connector, Delivery, Gateway, Inbound, Outcome
from hub.errors import IngestError, ParseError, SignatureInvalid
from hub.testing.executions import execution, lookup_for

NOTICE_KINDS = {"requested", "recorded", "ignored", "redact", "uninstalled", "data_request"}


class ConnectorContract:
    """Checks every connector must pass: names, verification, and parsing of real deliveries."""

    def test_name_is_one_lower_case_word(self, connector: Connector) -> None:
        assert re.fullmatch(r"[a-z][a-z0-9]*", connector.name)

    def test_authentic_deliveries_verify(self, connector: Connector, authentic: list[Inbound]) -> None:
        assert authentic, "give at least one authentic delivery"
        for item in authentic:
            verified = connector.verify(item)
            assert verified.store_id
            assert verified.dedupe_key

    def test_tampered_deliveries_are_refused(self, connector: Connector, tampered: list[Inbound]) -> None:
        assert tampered, "give at least one tampered delivery"
        for item in tampered:
            with pytest.raises(IngestError) as caught:
                connector.verify(item)
            assert isinstance(caught.value, SignatureInvalid) or caught.value.status in (400, 415)

    def test_dedupe_key_is_stable(self, connector: Connector, authentic: list[Inbound]) -> None:
        for item in authentic:
            assert connector.verify(item).dedupe_key == connector.verify(item).dedupe_key

    def test_parse_gives_notices(self, connector: Connector, authentic: list[Inbound]) -> None:
        for item in authentic:
            verified = connector.verify(item)
            if verified.ack_only:
                continue
            notices = connector.parse(_delivery(connector, verified.store_id, verified.topic, item))
            for notice in notices:
                assert notice.kind in NOTICE_KINDS
                assert notice.store_id == verified.store_id

    def test_unreadable_body_is_a_parse_error(self, connector: Connector, authentic: list[Inbound]) -> None:
        verified = connector.verify(authentic[0])
        junk = Inbound(headers=authentic[0].headers, body=b"\x00not json", content_type=authentic[0].content_type)
        with pytest.raises(ParseError):
            connector.parse(_delivery(connector, verified.store_id, verified.topic, junk))


def _delivery(connector: Connector, store_id: str, topic: str, item: Inbound) -> Delivery:
    return Delivery(
        id=str(uuid.uuid4()),
        connector=connector.name,
        store_id=store_id,
        topic=topic,
        headers=item.headers,
        body=item.body,
    )


class GatewayContract:
    """Checks every gateway adapter must pass against a live peer (its simulator or sandbox).

    Fixtures: ``gateway`` (the adapter), ``captured_payment`` (a tuple ``(reference, amount,
    currency)`` of a fresh captured payment at the peer).
    """

    def test_partial_refund_succeeds_or_pends(self, gateway: Gateway, captured_payment: tuple[str, int, str]) -> None:
        reference, amount, currency = captured_payment
        result = gateway.refund(execution(reference, amount // 2, currency))
        assert result.outcome in (Outcome.SUCCEEDED, Outcome.PENDING)
        assert result.gateway_refund_id

    def test_same_key_moves_money_once(self, gateway: Gateway, captured_payment: tuple[str, int, str]) -> None:
        reference, amount, currency = captured_payment
        once = execution(reference, amount // 4, currency)
        first, second = gateway.refund(once), gateway.refund(once)
        assert first.gateway_refund_id == second.gateway_refund_id
        assert gateway.payment(reference).refunded == amount // 4

    def test_more_than_captured_is_declined(self, gateway: Gateway, captured_payment: tuple[str, int, str]) -> None:
        reference, amount, currency = captured_payment
        result = gateway.refund(execution(reference, amount + 1, currency))
        assert result.outcome is Outcome.FAILED
        assert gateway.payment(reference).refunded == 0

    def test_get_refund_finds_an_earlier_attempt(
        self, gateway: Gateway, captured_payment: tuple[str, int, str]
    ) -> None:
        reference, amount, currency = captured_payment
        earlier = execution(reference, amount, currency)
        made = gateway.refund(earlier)
        found = gateway.get_refund(lookup_for(earlier))
        assert found is not None
        assert found.gateway_refund_id == made.gateway_refund_id

    def test_payment_reports_captured(self, gateway: Gateway, captured_payment: tuple[str, int, str]) -> None:
        reference, amount, currency = captured_payment
        state = gateway.payment(reference)
        assert (state.captured, state.refunded, state.currency) == (amount, 0, currency)
