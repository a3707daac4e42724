"""The ExamplePay adapter: Refund Hub's ``Gateway`` contract over ExamplePay's JSON REST API.

ExamplePay (fictional) speaks JSON over HTTPS with a Bearer API key:

- ``POST /v1/refunds`` with an ``Idempotency-Key`` header creates a refund; a repeat with the
  same key and the same body replays the first answer for 24 hours; the same key with another
  body is refused (422); a repeat while the first is still running answers 409.
- ``GET /v1/refunds/{id}`` reads one refund; ``GET /v1/payments/{id}/refunds`` lists a
  payment's refunds, oldest first, in pages (``limit``, ``starting_after``, ``has_more``).
- ``GET /v1/payments/{id}`` reads a payment: ``amount_captured``, ``amount_refunded`` (refunds
  that succeeded or are pending), ``disputed``.
- Amounts are integers in the currency's minor unit; currencies are lower-case ISO 4217 codes.
- Errors are ``{"error": {"type": ..., "code": ..., "message": ...}}``.

The adapter never lets a ``requests`` exception out. ``refund`` maps every answer to an outcome:

==============  ===============================================================  ===============
outcome         what happened                                                    the hub then
==============  ===============================================================  ===============
``failed``      a refusal no retry changes: 400, 401, 402, 403, 404, 422, ...   stops, tells
``unavailable`` surely not sent or not acted on: connection refused, DNS,        retries later
                connect timeout, bad URL, 429 (ExamplePay refuses before work)   with the key
``unknown``     maybe acted on: read timeout, connection lost, 5xx, 408, 409,    asks
                a 2xx it cannot read, anything unexpected                        ``get_refund``
==============  ===============================================================  ===============
"""

from __future__ import annotations

import hmac
import json
import threading
from collections.abc import Iterator, Mapping
from datetime import timedelta
from hashlib import sha256
from typing import Any, ClassVar
from urllib.parse import quote

import requests
from urllib3.exceptions import NewConnectionError

from hub.contracts import Gateway
from hub.contracts.inbound import Inbound, Verified
from hub.contracts.results import Execution, GatewayEvent, Outcome, PaymentState, RefundLookup, RefundResult
from hub.errors import ConfigError, HubError, MalformedBody, ParseError, SignatureInvalid

LIVE_URL = "https://api.examplepay.example"
SIGNATURE_HEADER = "X-ExamplePay-Signature"
PAGE_SIZE = 100  # ExamplePay's largest page

# ExamplePay refund status -> hub outcome
STATUSES: Mapping[str, Outcome] = {
    "succeeded": Outcome.SUCCEEDED,
    "pending": Outcome.PENDING,
    "failed": Outcome.FAILED,
    "canceled": Outcome.FAILED,
}
REFUND_EVENTS = ("refund.created", "refund.updated")


class ExamplePayError(HubError):
    """A read (``payment``) ExamplePay could not answer. Never a ``requests`` exception: the
    hub sees a ``HubError`` with the outcome the failure would have had for a refund."""

    def __init__(self, outcome: Outcome, code: str, message: str) -> None:
        super().__init__(f"ExamplePay {code}: {message}")
        self.outcome = outcome
        self.code = code
        self.message = message


def never_sent(exc: requests.RequestException) -> bool:
    """True only when the request surely never reached ExamplePay.

    A connection that was never made (refused, DNS, connect timeout) or a URL that could not
    even be built. A connection that broke later (reset, closed mid-answer) or a read timeout
    may have carried the whole request: those are not "never sent".
    """
    if isinstance(exc, requests.ConnectTimeout):
        return True  # the TCP connection was never made
    unbuildable = requests.exceptions.InvalidURL | requests.exceptions.MissingSchema | requests.exceptions.InvalidSchema
    if isinstance(exc, unbuildable):
        return True  # the request could not even be built, so nothing left this process
    if isinstance(exc, requests.ConnectionError) and exc.args:
        # requests wraps urllib3's MaxRetryError, whose ``reason`` says what went wrong
        cause = exc.args[0]
        return isinstance(getattr(cause, "reason", cause), NewConnectionError)
    return False


def transport_failure(exc: requests.RequestException) -> tuple[Outcome, str]:
    """(outcome, code) for a call that got no HTTP answer."""
    if never_sent(exc):
        return Outcome.UNAVAILABLE, "not_connected"
    if isinstance(exc, requests.Timeout):
        return Outcome.UNKNOWN, "timeout"
    if isinstance(exc, requests.ConnectionError):
        return Outcome.UNKNOWN, "connection_lost"
    return Outcome.UNKNOWN, "transport_error"


def status_outcome(status: int) -> Outcome:
    """The outcome of an HTTP error answer to ``POST /v1/refunds``."""
    if status == 429:
        return Outcome.UNAVAILABLE  # rate limiting happens before ExamplePay looks at the request
    if status in (408, 409) or status >= 500:
        return Outcome.UNKNOWN  # 409: a request with this key is still running; 5xx: maybe done
    if 400 <= status < 500:
        return Outcome.FAILED
    return Outcome.UNKNOWN  # 1xx/3xx: not an answer this API gives


def error_of(response: requests.Response) -> tuple[str, str]:
    """(code, message) from ExamplePay's error envelope, or from the status line."""
    try:
        error = response.json().get("error") or {}
        code, message = error.get("code"), error.get("message")
    except (ValueError, AttributeError):
        code = message = None
    return str(code or f"http_{response.status_code}"), str(message or response.reason or "")[:300]


def refund_result(refund: Mapping[str, Any]) -> RefundResult:
    """An ExamplePay refund object as the hub's ``RefundResult``."""
    status = str(refund["status"])
    outcome = STATUSES.get(status, Outcome.UNKNOWN)
    return RefundResult(
        outcome,
        gateway_refund_id=str(refund["id"]),
        amount=int(refund["amount"]),
        currency=str(refund["currency"]).upper(),
        code=refund.get("failure_code") if outcome is Outcome.FAILED else None,
        raw_status=status,
    )


def _short(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:300]


class ExamplePayGateway(Gateway):
    """One ExamplePay account (``[gateways.<account>]`` with ``type = "examplepay"``).

    Settings: ``api_key`` (required), ``base_url`` (default the live API), ``timeout`` (seconds
    to wait for an answer, default 15), ``connect_timeout`` (default 3.05), ``webhook_secret``
    and ``previous_webhook_secret`` (status webhooks, accepted both during a rotation).
    """

    name = "examplepay"
    # ExamplePay replays a key's first answer for 24 hours
    replay_window: ClassVar[timedelta | None] = timedelta(hours=24)
    # get_refund without a refund id reads every page of the payment's refunds: None proves absence
    lookup_is_complete: ClassVar[bool] = True

    def __init__(self, account: str, settings: Mapping[str, Any]) -> None:
        super().__init__(account, settings)
        if not settings.get("api_key"):
            raise ConfigError(f"gateways.{account}.api_key", "ExamplePay needs an API key")
        self.base_url = str(settings.get("base_url") or LIVE_URL).rstrip("/")
        self.timeout = (float(settings.get("connect_timeout", 3.05)), float(settings.get("timeout", 15)))
        self._local = threading.local()  # a requests.Session per worker thread

    # -- HTTP ------------------------------------------------------------------------------

    def _session(self) -> requests.Session:
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            session.headers["Authorization"] = f"Bearer {self.settings['api_key']}"
            session.headers["User-Agent"] = "refund-hub-example-gateway/0.1"
            self._local.session = session
        return session

    def _call(self, method: str, path: str, **options: Any) -> requests.Response:
        """One HTTP request, no retries (the hub retries with the same key when it is safe)."""
        return self._session().request(method, self.base_url + path, timeout=self.timeout, **options)

    # -- money -----------------------------------------------------------------------------

    def refund(self, execution: Execution) -> RefundResult:
        body = {
            "payment": execution.payment_reference,
            "amount": execution.amount,  # minor units, as the hub keeps them
            "currency": execution.currency.lower(),
            "reason": execution.reason,
            "metadata": {"hub_refund_id": execution.hub_refund_id, "order_id": execution.order_id},
        }
        try:
            response = self._call(
                "POST", "/v1/refunds", json=body, headers={"Idempotency-Key": execution.idempotency_key}
            )
        except requests.RequestException as exc:
            outcome, code = transport_failure(exc)
            return RefundResult(outcome, code=code, message=_short(exc))
        if response.status_code in (200, 201):
            try:
                return refund_result(response.json())
            except (ValueError, KeyError, TypeError) as exc:  # it answered yes, in a way we cannot read
                return RefundResult(Outcome.UNKNOWN, code="unreadable_answer", message=_short(exc))
        code, message = error_of(response)
        return RefundResult(status_outcome(response.status_code), code=code, message=message)

    def get_refund(self, lookup: RefundLookup) -> RefundResult | None:
        """By refund id when the hub has one, else by the hub refund id in the refunds' metadata.

        A lookup that fails answers ``unknown``, never None: None tells the hub that the refund
        surely does not exist, and the hub may then re-send the refund.
        """
        try:
            if lookup.gateway_refund_id:
                response = self._call("GET", f"/v1/refunds/{quote(lookup.gateway_refund_id, safe='')}")
                if response.status_code == 200:
                    return refund_result(response.json())
                if response.status_code != 404:
                    return self._lookup_failed(response)
            for refund in self._refunds_of(lookup.payment_reference):
                metadata = refund.get("metadata") or {}
                if metadata.get("hub_refund_id") == lookup.hub_refund_id:
                    return refund_result(refund)
            return None
        except ExamplePayError as exc:
            if exc.code == "payment_not_found":
                return None  # ExamplePay knows no such payment, so no refund of it either
            return RefundResult(Outcome.UNKNOWN, code=exc.code, message=exc.message)
        except requests.RequestException as exc:
            return RefundResult(Outcome.UNKNOWN, code=transport_failure(exc)[1], message=_short(exc))
        except Exception as exc:  # noqa: BLE001 - the hub reads a raising lookup as "no trace" and may re-send
            return RefundResult(Outcome.UNKNOWN, code="unexpected", message=_short(exc))

    def _lookup_failed(self, response: requests.Response) -> RefundResult:
        code, message = error_of(response)
        return RefundResult(Outcome.UNKNOWN, code=code, message=f"lookup HTTP {response.status_code}: {message}")

    def _refunds_of(self, payment: str) -> Iterator[Mapping[str, Any]]:
        """Every refund of the payment, page after page."""
        params: dict[str, Any] = {"limit": PAGE_SIZE}
        while True:
            response = self._call("GET", f"/v1/payments/{quote(payment, safe='')}/refunds", params=params)
            if response.status_code != 200:
                code, message = error_of(response)
                raise ExamplePayError(Outcome.UNKNOWN, code, message)
            page = response.json()
            yield from page["data"]
            if not page.get("has_more") or not page["data"]:
                return
            params["starting_after"] = page["data"][-1]["id"]

    def payment(self, reference: str, extra: Mapping[str, str] | None = None) -> PaymentState:
        try:
            response = self._call("GET", f"/v1/payments/{quote(reference, safe='')}")
        except requests.RequestException as exc:
            outcome, code = transport_failure(exc)
            raise ExamplePayError(outcome, code, _short(exc)) from None
        if response.status_code != 200:
            code, message = error_of(response)
            raise ExamplePayError(status_outcome(response.status_code), code, message)
        try:
            data = response.json()
            return PaymentState(
                reference=reference,
                currency=str(data["currency"]).upper(),
                captured=int(data["amount_captured"]),
                refunded=int(data["amount_refunded"]),
                disputed=bool(data.get("disputed", False)),
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise ExamplePayError(Outcome.UNKNOWN, "unreadable_answer", _short(exc)) from None

    # -- status webhooks -------------------------------------------------------------------

    def verify_webhook(self, inbound: Inbound) -> Verified:
        """hex(HMAC-SHA256(secret, raw body)) in ``X-ExamplePay-Signature``, compared in constant
        time against the current and the previous secret, before the body is parsed."""
        secrets = [
            str(s) for s in (self.settings.get("webhook_secret"), self.settings.get("previous_webhook_secret")) if s
        ]
        given = str(inbound.headers.get(SIGNATURE_HEADER, "")).strip()
        if not secrets or not given:
            raise SignatureInvalid(f"{SIGNATURE_HEADER} missing, or no webhook_secret configured")
        expected = [hmac.new(s.encode(), inbound.body, sha256).hexdigest() for s in secrets]
        # every candidate is compared (no early exit), each in constant time
        matches = [hmac.compare_digest(e.encode(), given.encode()) for e in expected]
        if not any(matches):
            raise SignatureInvalid(f"{SIGNATURE_HEADER} does not match the body")
        try:
            event = json.loads(inbound.body)
            return Verified(store_id=self.account, topic=str(event["type"]), dedupe_key=str(event["id"]))
        except (ValueError, KeyError, TypeError) as exc:
            raise MalformedBody(f"signed, but not an ExamplePay event: {exc}") from None

    def parse_webhook(self, body: bytes) -> list[GatewayEvent]:
        try:
            event = json.loads(body)
            if event["type"] not in REFUND_EVENTS:
                return []
            refund = event["data"]
            result = refund_result(refund)
            return [
                GatewayEvent(
                    gateway_refund_id=str(refund["id"]),
                    outcome=result.outcome,
                    payment_reference=str(refund["payment"]),
                    hub_refund_id=(refund.get("metadata") or {}).get("hub_refund_id"),
                    amount=result.amount,
                    currency=result.currency,
                    event_id=str(event["id"]),
                )
            ]
        except (ValueError, KeyError, TypeError) as exc:
            raise ParseError(f"not an ExamplePay refund event: {exc}") from None
