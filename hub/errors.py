"""The hub's exception tree. No SDK or HTTP-library exception ever leaves an adapter.

    HubError
    ├── ConfigError            invalid configuration; names the key          (fails at start)
    ├── PluginError            missing, duplicate or broken plugin            (fails at start)
    ├── IngestError            a webhook the hub refuses; carries the HTTP status and a code
    │   ├── SignatureInvalid        401  not authentic
    │   ├── UnknownConnector        404  no such connector, or not enabled
    │   ├── BodyTooLarge            413  over the configured limit
    │   ├── UnsupportedMediaType    415  not the content type the connector accepts
    │   └── MalformedBody           400  not what the connector accepts
    ├── StorageUnavailable     the database refused a delivery; nothing of it was stored (→ 503)
    ├── ParseError             an authentic delivery the connector cannot read (→ dead letter)
    ├── PlatformError          a platform API call failed
    │   └── PlatformUnavailable     surely not applied; retry later
    └── LedgerError
        ├── OverRefund              would exceed the payment's refundable balance
        ├── PaymentBusy             an unknown refund on the payment must be resolved first
        └── IllegalTransition       a state change the refund state machine forbids

Gateways do not raise for refund outcomes: they return a ``RefundResult`` whose outcome is
succeeded / pending / failed (declined, permanent) / unknown (maybe sent) / unavailable
(surely not sent). Failures are data, not control flow.
"""

from __future__ import annotations


class HubError(Exception):
    """Base of every error the hub raises on purpose."""


class ConfigError(HubError):
    def __init__(self, key: str, problem: str) -> None:
        super().__init__(f"configuration {key}: {problem}")
        self.key = key
        self.problem = problem


class PluginError(HubError):
    pass


class IngestError(HubError):
    status = 400
    code = "bad_request"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class SignatureInvalid(IngestError):
    status = 401
    code = "signature_invalid"


class UnknownConnector(IngestError):
    status = 404
    code = "unknown_connector"


class BodyTooLarge(IngestError):
    status = 413
    code = "body_too_large"


class UnsupportedMediaType(IngestError):
    status = 415
    code = "unsupported_media_type"


class MalformedBody(IngestError):
    status = 400
    code = "malformed_body"


class StorageUnavailable(HubError):
    pass


class ParseError(HubError):
    """Raised by ``Connector.parse`` / ``fetch`` for an authentic event it cannot read."""


# What reading a hostile or type-confused body raises in code that assumed its shape (a list
# where an object was expected, 5 000-digit numbers, deep nesting, bad text): the body cannot be
# read, and reading it again will not help — the hub treats these like a ``ParseError``.
UNREADABLE: tuple[type[Exception], ...] = (
    AttributeError,
    TypeError,
    KeyError,
    IndexError,
    ValueError,
    OverflowError,
    RecursionError,
    UnicodeError,
)
UNPARSEABLE: tuple[type[Exception], ...] = (ParseError, *UNREADABLE)


class PlatformError(HubError):
    """A platform API answered with an error the connector could not turn into data."""


class PlatformUnavailable(PlatformError):
    """The platform call surely did not take effect (connection refused, 5xx on a read)."""


class LedgerError(HubError):
    pass


class OverRefund(LedgerError):
    pass


class PaymentBusy(LedgerError):
    pass


class IllegalTransition(LedgerError):
    pass
