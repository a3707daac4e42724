"""The policy commands that read the ledger: ``explain <refund-id>`` and ``simulate FILE --since``.

``simulate`` replays stored decisions under a candidate policy; each record's history is rebuilt
in memory from the same rows (earlier refunds by customer, email or payment instrument), so the
cost per record stays flat however long the history is.
"""

from __future__ import annotations

import bisect
import re
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import click
from sqlalchemy import select

from hub.db.engine import reading
from hub.db.tables import audit, refunds
from hub.ledger.history import PRIOR_COLUMNS, prior_refund
from hub.models import RefundRequest

SINCE = re.compile(r"^(\d+)([dhw])$")


def parse_since(text: str) -> timedelta:
    match = SINCE.match(text.strip())
    if not match:
        raise click.BadParameter("use a number and d, h or w, e.g. 90d")
    amount, unit = int(match.group(1)), match.group(2)
    return {"d": timedelta(days=amount), "h": timedelta(hours=amount), "w": timedelta(weeks=amount)}[unit]


def stored_records(engine: Any, since: datetime, lookback_days: int) -> Iterator[Any]:
    """SimulationRecords of every decided refund since ``since``, with in-memory histories."""
    from hub.policy import Decision, History, SimulationRecord

    start = since - timedelta(days=lookback_days)
    with reading(engine) as conn:
        rows = conn.execute(
            select(*PRIOR_COLUMNS, refunds.c.decision, refunds.c.request, refunds.c.kind)
            .where(refunds.c.created_at >= start)
            .order_by(refunds.c.created_at)
        ).all()
    index: dict[str, list[tuple[datetime, int]]] = defaultdict(list)
    priors = [prior_refund(row) for row in rows]
    for position, row in enumerate(rows):
        for key in _keys(row):
            index[key].append((priors[position].created_at, position))
    for position, row in enumerate(rows):
        created = priors[position].created_at
        if created < since or not row.decision or "decision" not in row.decision or row.kind != "requested":
            continue
        earlier: set[int] = set()
        for key in _keys(row):
            series = index[key]
            lo = bisect.bisect_left(series, (created - timedelta(days=lookback_days), -1))
            hi = bisect.bisect_left(series, (created, position))
            earlier.update(p for _, p in series[lo:hi])
        history = History(
            prior_refunds=tuple(sorted((priors[p] for p in earlier), key=lambda r: r.created_at, reverse=True))
        )
        yield SimulationRecord(
            refund_id=row.id,
            request=RefundRequest.model_validate(row.request),
            history=history,
            decided_at=created,
            decision=Decision.from_dict(row.decision["decision"]),
        )


def _keys(row: Any) -> list[str]:
    return [
        f"{k}:{v}" for k, v in (("c", row.customer_id), ("e", row.customer_email), ("p", row.payment_fingerprint)) if v
    ]


def add_ledger_commands(group: click.Group) -> None:
    @group.command("explain")
    @click.argument("refund_id")
    @click.pass_context
    def explain(ctx: click.Context, refund_id: str) -> None:
        """Why a refund was decided as it was: rules fired, explanation, policy version, trail."""
        from hub.cli.main import _hub
        from hub.policy import Decision

        hub = _hub(ctx)
        with reading(hub.engine) as conn:
            row = conn.execute(select(refunds).where(refunds.c.id == refund_id)).first()
            trail = conn.execute(select(audit).where(audit.c.refund_id == refund_id).order_by(audit.c.id)).all()
        if row is None:
            raise click.ClickException(f"no refund {refund_id}")
        click.echo(f"refund {row.id}: {row.state}, {row.amount} {row.currency} (order {row.order_id}, {row.store_id})")
        if row.decision and "decision" in row.decision:
            decision = Decision.from_dict(row.decision["decision"])
            click.echo(f"decision: {decision.action} {decision.amount} under policy {decision.policy_version}")
            for hit in decision.rules:
                click.echo(f"  - {hit.rule} [{hit.effect}] {hit.detail}")
            click.echo(f"customer was told: {decision.explanation}")
            for key, value in row.decision.items():
                if key != "decision":
                    click.echo(f"note: {key}: {value}")
        else:
            click.echo("no policy decision (a recorded refund, or not decided yet)")
        click.echo("audit trail:")
        for entry in trail:
            click.echo(f"  {entry.at:%Y-%m-%d %H:%M:%S} {entry.actor:12s} {entry.action} {entry.detail}")

    @group.command("simulate")
    @click.argument("policy_file", type=click.Path(exists=True, dir_okay=False))
    @click.option("--since", "since_text", default="90d", show_default=True, help="how far back, e.g. 90d, 12w")
    @click.pass_context
    def simulate_cmd(ctx: click.Context, policy_file: str, since_text: str) -> None:
        """Replay stored decisions under a candidate policy and show what would change."""
        from rich.progress import Progress

        from hub.cli.main import _config
        from hub.db.engine import make_engine
        from hub.policy import load_policy, simulate

        candidate = load_policy(policy_file)
        engine = make_engine(_config(ctx).hub.db_url)
        since = datetime.now(UTC) - parse_since(since_text)
        records = list(stored_records(engine, since, candidate.history_lookback_days))
        with Progress(transient=True) as progress:
            task = progress.add_task("replaying decisions", total=len(records))
            report = simulate(candidate, records, progress=lambda n: progress.update(task, completed=n))
        from hub.policy.report import print_report

        print_report(report)
