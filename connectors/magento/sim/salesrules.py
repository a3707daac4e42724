"""The simulated store's cart price rules and coupons (``/V1/salesRules``, ``/V1/coupons``): what
the hub issues as a refund's alternative on Magento Open Source, which has no store credit.

Shapes follow ``SalesRuleDataRuleInterface`` and ``SalesRuleDataCouponInterface``; both lists
answer ``searchCriteria``. Coupon codes are unique, as Magento keeps them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask import Flask, jsonify, request

from connectors.magento.sim.search import search
from connectors.magento.sim.state import MagentoFault

if TYPE_CHECKING:
    from connectors.magento.sim.server import MagentoSimulator


def register(app: Flask, sim: MagentoSimulator) -> None:
    rules: dict[int, dict[str, Any]] = {}
    coupons: dict[int, dict[str, Any]] = {}
    sim.sales_rules, sim.coupons = rules, coupons  # type: ignore[attr-defined]  # the tests' view

    @app.post("/rest/V1/salesRules")
    def create_rule() -> Any:
        given = (request.get_json(force=True) or {}).get("rule") or {}
        if not given.get("name") or given.get("simple_action") not in ("by_percent", "by_fixed", "cart_fixed"):
            raise MagentoFault(400, '"%fieldName" is required. Enter and try again.', ["name"])
        with sim.state.lock:
            rule_id = sim.state.next_id()
            rules[rule_id] = {
                "rule_id": rule_id,
                "coupon_type": "NO_COUPON",
                "uses_per_coupon": 0,
                "uses_per_customer": 0,
                "is_active": True,
                **given,
            }
        return jsonify(rules[rule_id])

    @app.get("/rest/V1/salesRules/search")
    def search_rules() -> Any:
        return jsonify(search(list(rules.values()), request.args))

    @app.post("/rest/V1/coupons")
    def create_coupon() -> Any:
        given = (request.get_json(force=True) or {}).get("coupon") or {}
        code = str(given.get("code") or "")
        if int(given.get("rule_id") or 0) not in rules:
            raise MagentoFault(404, "The rule with the specified ID was not found.")
        with sim.state.lock:
            if any(c["code"] == code for c in coupons.values()):
                raise MagentoFault(400, "Coupon with the same code already exists.")
            coupon_id = sim.state.next_id()
            coupons[coupon_id] = {"coupon_id": coupon_id, "times_used": 0, "type": 0, **given, "code": code}
        return jsonify(coupons[coupon_id])

    @app.get("/rest/V1/coupons/search")
    def search_coupons() -> Any:
        return jsonify(search(list(coupons.values()), request.args))
