"""Prometheus metrics. Counters live per process (multiprocess mode when ``serve`` sets
``PROMETHEUS_MULTIPROC_DIR``); queue depth and the oldest unresolved refund are read from the
database at scrape time, so every process reports the same truth.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest, multiprocess
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import Engine, func, select

from hub.db.engine import reading
from hub.db.tables import refunds
from hub.ledger import duties, states
from hub.ledger import outbox as jobs
from hub.ledger.duties import DutyRun
from hub.ledger.records import as_utc

DELIVERIES = Counter(
    "refund_hub_deliveries_total", "Webhook deliveries by connector and result", ["connector", "result"]
)
DECISIONS = Counter("refund_hub_decisions_total", "Policy decisions by action", ["action"])
POLICY_UNKNOWNS = Counter(
    "refund_hub_policy_unknown_inputs_total",
    "Rules a decision could not evaluate because the store did not supply their input, by rule and connector",
    ["rule", "connector"],
)
GATEWAY_OUTCOMES = Counter(
    "refund_hub_gateway_outcomes_total", "Refund calls by executor and outcome", ["executor", "outcome"]
)
GATEWAY_LATENCY = Histogram(
    "refund_hub_gateway_latency_seconds",
    "Refund call latency by executor",
    ["executor"],
    buckets=(0.05, 0.1, 0.2, 0.3, 0.5, 1, 2, 5, 10, 30),
)


def count_unknown_inputs(rules: Iterable[str], connector: str) -> None:
    """One count per ``unknown.<rule>`` hit of a decision (``hub.policy.unknowns``; the prefix is
    spelled here so that a web worker scraping metrics never imports the policy engine)."""
    for rule in rules:
        if rule.startswith("unknown."):
            POLICY_UNKNOWNS.labels(rule=rule.removeprefix("unknown."), connector=connector).inc()


class LedgerCollector(Collector):
    """Gauges computed from the database on every scrape."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        with reading(self.engine) as conn:
            depth, _oldest_job = jobs.backlog(conn)
            oldest = conn.execute(
                select(func.min(refunds.c.updated_at)).where(refunds.c.state.in_(states.UNRESOLVED))
            ).scalar()
            by_state = conn.execute(select(refunds.c.state, func.count()).group_by(refunds.c.state)).all()
            ran = duties.runs(conn)
        yield GaugeMetricFamily("refund_hub_queue_depth", "Jobs waiting or running", value=depth)
        age = 0.0
        if oldest is not None:
            age = (datetime.now(UTC) - as_utc(oldest)).total_seconds()  # type: ignore[operator]
        yield GaugeMetricFamily(
            "refund_hub_oldest_unresolved_refund_seconds",
            "Age of the oldest executing/pending/unknown refund",
            value=age,
        )
        gauge = GaugeMetricFamily("refund_hub_refunds", "Refunds by state", labels=["state"])
        for state, count in by_state:
            gauge.add_metric([state], count)
        yield gauge
        yield from _duty_metrics(ran)


def _duty_metrics(ran: list[DutyRun]) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
    """Each janitor duty's last run, duration and failures, across the cluster."""
    last = GaugeMetricFamily(
        "refund_hub_duty_last_run_timestamp_seconds", "When a janitor duty last started", labels=["duty"]
    )
    duration = GaugeMetricFamily(
        "refund_hub_duty_last_duration_seconds", "How long a janitor duty's last run took", labels=["duty"]
    )
    runs = CounterMetricFamily("refund_hub_duty_runs", "Runs of a janitor duty", labels=["duty"])
    failures = CounterMetricFamily("refund_hub_duty_failures", "Failed runs of a janitor duty", labels=["duty"])
    for duty in ran:
        if duty.last_started is not None:
            last.add_metric([duty.name], duty.last_started.timestamp())
        if duty.last_duration is not None:
            duration.add_metric([duty.name], duty.last_duration)
        runs.add_metric([duty.name], duty.runs)
        failures.add_metric([duty.name], duty.failures)
    yield from (last, duration, runs, failures)


def render(engine: Engine) -> bytes:
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.MultiProcessCollector(registry)
    else:
        for collector in (DELIVERIES, DECISIONS, POLICY_UNKNOWNS, GATEWAY_OUTCOMES, GATEWAY_LATENCY):
            registry.register(collector)
    registry.register(LedgerCollector(engine))
    return generate_latest(registry)
