"""PayPal's amount rules: decimal strings with the ISO exponent, except currencies PayPal keeps whole.

PayPal's currency table: HUF, JPY and TWD "do not support decimals. Decimal amounts cause an
error" (422 ``DECIMALS_NOT_SUPPORTED``), although ISO 4217 gives HUF and TWD two places. The hub
keeps ISO minor units, so 1500.00 HUF is 150000 in the hub and ``"1500"`` at PayPal, and 1500.50
HUF cannot be sent at all. The adapter and the simulator both use these functions.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from hub.models.money import CurrencyError, exponent, format_decimal, normalize_currency, to_minor

NO_DECIMALS = frozenset({"HUF", "JPY", "TWD"})


class AmountNotAccepted(ValueError):
    """An amount PayPal would refuse; ``code`` is the PayPal issue it would answer with."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def places(currency: str) -> int:
    """Decimal places PayPal accepts for ``currency``."""
    code = normalize_currency(currency)
    return 0 if code in NO_DECIMALS else exponent(code)


def to_value(minor: int, currency: str) -> str:
    """Hub minor units to PayPal's ``value`` string, refusing what PayPal cannot express."""
    if minor <= 0:
        raise AmountNotAccepted("CANNOT_BE_ZERO_OR_NEGATIVE", f"refund amount must be positive, got {minor}")
    return render(minor, currency)


def render(minor: int, currency: str) -> str:
    """Any amount (zero included) as PayPal writes it; refuses what PayPal cannot express."""
    code = normalize_currency(currency)
    dropped = exponent(code) - places(code)
    if minor % 10**dropped:
        shown = format_decimal(minor, code)
        raise AmountNotAccepted(
            "DECIMALS_NOT_SUPPORTED", f"PayPal does not accept decimals for {code}; {shown} {code} cannot be refunded"
        )
    return format_decimal(minor // 10**dropped, code, places=places(code))


def to_minor_units(value: str, currency: str) -> int:
    """PayPal's ``value`` string back to hub minor units (``"1500"`` HUF is 150000)."""
    code = normalize_currency(currency)
    try:
        return to_minor(Decimal(value), code)
    except (InvalidOperation, CurrencyError) as exc:
        raise AmountNotAccepted("DECIMAL_PRECISION", f"{value!r} is not a valid {code} amount") from exc


def check_value(value: str, currency: str) -> int:
    """Validate a ``value`` the way PayPal does (decimals, precision, sign); return minor units."""
    code = normalize_currency(currency)
    if "." in value and code in NO_DECIMALS:
        raise AmountNotAccepted("DECIMALS_NOT_SUPPORTED", f"{code} does not support decimals")
    if "." in value and len(value.split(".", 1)[1]) > places(code):
        raise AmountNotAccepted("DECIMAL_PRECISION", f"{code} supports {places(code)} decimal places")
    minor = to_minor_units(value, code)
    if minor <= 0:
        raise AmountNotAccepted("CANNOT_BE_ZERO_OR_NEGATIVE", "Must be greater than zero")
    return minor
