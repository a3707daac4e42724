"""How an amount written without a currency (``review_above = 500``) applies in each currency.

Such an amount is in the policy's ``base`` currency and converted: through the merchant's
``[currencies] rates`` (units of a currency per one ``base`` unit), else through coarse built-in
magnitudes for the currencies whose unit is small (¥, ₩, ₫…), so that 500 never means ¥500 (about
3 USD, which would send nearly every yen refund to a person). The magnitudes are rounded orders
of size, not exchange rates: a merchant who cares sets ``rates`` or per-currency amounts
(``review_above = { default = 500, JPY = 80000 }``, which always win). Currencies not named
anywhere count one to one, as before.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

# Units per one US dollar, rounded to two significant digits (late 2026 magnitudes); only
# currencies whose unit is worth well under a dollar-sized unit are listed.
SMALL_UNITS: Mapping[str, Decimal] = {
    code: Decimal(value)
    for code, value in {
        "ARS": "1000",
        "CLP": "950",
        "COP": "4000",
        "CRC": "500",
        "CZK": "23",
        "DZD": "130",
        "EGP": "50",
        "HUF": "350",
        "IDR": "16000",
        "INR": "85",
        "IQD": "1300",
        "IRR": "42000",
        "ISK": "140",
        "JPY": "150",
        "KES": "130",
        "KHR": "4000",
        "KRW": "1400",
        "KZT": "500",
        "LAK": "21000",
        "LKR": "300",
        "MMK": "2100",
        "MNT": "3400",
        "NGN": "1500",
        "PHP": "57",
        "PKR": "280",
        "PYG": "7500",
        "RSD": "100",
        "RUB": "90",
        "THB": "34",
        "TRY": "40",
        "TWD": "32",
        "TZS": "2600",
        "UAH": "41",
        "UGX": "3700",
        "UZS": "12500",
        "VND": "25000",
        "XAF": "600",
        "XOF": "600",
        "ZAR": "18",
    }.items()
}


@dataclass(frozen=True)
class Rates:
    """The policy's ``[currencies]``: the ``base`` of bare amounts and how other currencies compare."""

    base: str | None = None  # None: a dollar-sized unit (USD, EUR, GBP… all count one to one)
    rates: Mapping[str, Decimal] = field(default_factory=dict)  # units per one base unit
    builtin: bool = True  # fall back to SMALL_UNITS for currencies ``rates`` does not name

    def factor(self, currency: str) -> Decimal:
        """How many units of ``currency`` one unit of a bare amount is worth."""
        if currency == self.base:
            return Decimal(1)
        if currency in self.rates:
            return self.rates[currency]
        if not self.builtin:
            return Decimal(1)
        return SMALL_UNITS.get(currency, Decimal(1)) / SMALL_UNITS.get(self.base or "", Decimal(1))

    def named(self) -> list[str]:
        """The currencies whose factor is not one (for ``policy check``)."""
        codes = set(self.rates) | (set(SMALL_UNITS) if self.builtin else set())
        if self.base:
            codes.add(self.base)
        return sorted(code for code in codes if code == self.base or self.factor(code) != 1)


ONE_TO_ONE = Rates(builtin=False)
DEFAULT_RATES = Rates()
