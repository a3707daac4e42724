"""The history index answers exactly what a naive scan would, and is built once per History."""

from __future__ import annotations

import random
from datetime import timedelta

from policy_factory import ASKED, policy, prior, request

from hub.policy import History, PriorRefund, decide, normalize_email, payment_fingerprint
from hub.policy.history import HistoryIndex

IGNORE = frozenset({"failed"})


def random_refunds(seed: int, n: int) -> list[PriorRefund]:
    rng = random.Random(seed)
    return [
        prior(
            rng.uniform(0, 200),
            amount=rng.randint(1, 5_000),
            order_id=f"o{rng.randint(1, 40)}",
            customer_id=rng.choice(["cust-1", "cust-2", None]),
            email=rng.choice(["ann@example.com", "Ann+x@example.com", "bob@example.com", None]),
            fingerprint=rng.choice(["card-1", "card-2", None]),
            state=rng.choice(["succeeded", "pending", "failed"]),
            currency=rng.choice(["USD", "EUR"]),
            refund_id=f"r{i}",
        )
        for i in range(n)
    ]


def test_index_matches_a_naive_scan() -> None:
    refunds = random_refunds(7, 600)
    index = HistoryIndex.build(reversed(refunds), IGNORE)  # order does not matter to the index
    counted = [r for r in refunds if r.state not in IGNORE]
    until = ASKED.timestamp()
    for days in (1, 7, 30, 90, 365):
        since = until - days * 86_400

        def within(r: PriorRefund, since: float = since) -> bool:
            return since < r.created_at.timestamp() <= until

        for key, match in {
            "customer:cust-1": lambda r: r.customer_id == "cust-1",
            "email:ann@example.com": lambda r: normalize_email(r.email) == "ann@example.com",
            "payment:card-2": lambda r: r.payment_fingerprint == "card-2",
            "any": lambda r: True,
        }.items():
            chosen = [r for r in counted if match(r) and within(r)]
            series = index.of(key)
            assert series.count(since, until) == len(chosen)
            assert series.total("EUR", since, until) == sum(r.amount for r in chosen if r.currency == "EUR")
            latest: dict[str, float] = {}
            for r in counted:
                if match(r):
                    latest[r.order_id] = max(latest.get(r.order_id, 0.0), r.created_at.timestamp())
            assert series.distinct_orders(since, until) == sum(1 for t in latest.values() if since < t <= until)


def test_index_is_cached_per_history_and_states() -> None:
    hist = History(prior_refunds=tuple(random_refunds(1, 50)))
    assert hist.index(IGNORE) is hist.index(IGNORE)
    assert hist.index(frozenset()) is not hist.index(IGNORE)
    assert hist == History(prior_refunds=hist.prior_refunds)  # the cache is not part of equality


def test_identity_helpers() -> None:
    assert normalize_email(" Ann+Shop@Example.COM ") == "ann@example.com"
    assert normalize_email("") is None
    built = request(fingerprint=None)
    assert payment_fingerprint(built.primary_payment) == "stripe:pi-order-1"
    assert payment_fingerprint(request(fingerprint="fp-9").primary_payment) == "fp-9"


def test_velocity_window_edge_is_exclusive_at_the_far_end() -> None:
    pol = policy(abuse={"velocity": [{"max": 1, "days": 7}]})
    at_edge = History(prior_refunds=(prior(7),))
    inside = History(prior_refunds=(prior(7 - 1 / 86_400),))
    assert decide(pol, request(), at_edge, ASKED).action == "approve"
    assert decide(pol, request(), inside, ASKED).action == "review"


def test_refunds_after_the_decision_time_do_not_count() -> None:
    pol = policy(abuse={"velocity": [{"max": 1, "days": 7}]})
    later = History(prior_refunds=(prior(-1),))
    assert decide(pol, request(), later, ASKED).action == "approve"
    assert decide(pol, request(), later, ASKED + timedelta(days=2)).action == "review"
