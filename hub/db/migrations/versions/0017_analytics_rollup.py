"""analytics rollup: the analytics figures per store and day (``analytics_daily``), the log of the
store-days whose refunds changed since (``analytics_dirty``), and the triggers that write that log
in the transaction of every change that moves a figure — a refund added, removed, or changed in a
column a figure reads; a ``reviewed`` audit entry; a customer's feedback. Every store-day the
ledger holds now starts in the log, so nothing is read from a rollup before it has been built
(the janitor's ``analytics`` duty builds them; hub.ledger.analytics_rollup)

Revision ID: 0017_analytics_rollup
Revises: 0016_analytics_index
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017_analytics_rollup"
down_revision = "0016_analytics_index"
branch_labels = None
depends_on = None

KEYS = ("key_1", "key_2", "key_3", "key_4")
VALUES = ("value_1", "value_2", "value_3", "value_4", "value_5")
# the refunds' columns some figure reads (hub.ledger.analytics_rollup.FIGURES)
WATCHED = ("connector", "store_id", "created_at", "parent_id", "state", "currency", "amount", "approved_amount",
           "money_moved", "route", "request", "decision")  # fmt: skip
MARK = "INSERT INTO analytics_dirty (connector, store_id, day)"


def _day(dialect: str, column: str) -> str:
    """The UTC day of a timestamp, as ``hub.ledger.analytics_rollup.day_of`` writes it."""
    if dialect == "postgresql":
        return f"to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD')"
    return f"substr({column}, 1, 10)"


def _sqlite_triggers() -> list[str]:
    changed = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in WATCHED)
    moved = "OLD.connector IS NOT NEW.connector OR OLD.store_id IS NOT NEW.store_id OR " + (
        f"{_day('sqlite', 'OLD.created_at')} IS NOT {_day('sqlite', 'NEW.created_at')}"
    )

    def refund(row: str) -> str:
        return f"{MARK} VALUES ({row}.connector, {row}.store_id, {_day('sqlite', f'{row}.created_at')});"

    def refund_of(ids: str) -> str:
        return f"{MARK} SELECT connector, store_id, {_day('sqlite', 'created_at')} FROM refunds WHERE id IN ({ids});"

    found = [
        f"CREATE TRIGGER analytics_refund_added AFTER INSERT ON refunds BEGIN {refund('NEW')} END",
        f"CREATE TRIGGER analytics_refund_removed AFTER DELETE ON refunds BEGIN {refund('OLD')} END",
        f"CREATE TRIGGER analytics_refund_changed AFTER UPDATE OF {', '.join(WATCHED)} ON refunds WHEN {changed} "
        f"BEGIN {refund('NEW')} {MARK} SELECT OLD.connector, OLD.store_id, {_day('sqlite', 'OLD.created_at')} "
        f"WHERE {moved}; END",
    ]
    for table, columns, when in (("audit", "refund_id, actor, action, detail", "{row}.action = 'reviewed'"),
                                 ("feedback", "refund_id, rating, reason", "1")):  # fmt: skip
        found += [
            f"CREATE TRIGGER analytics_{table}_added AFTER INSERT ON {table} WHEN {when.format(row='NEW')} "
            f"BEGIN {refund_of('NEW.refund_id')} END",
            f"CREATE TRIGGER analytics_{table}_removed AFTER DELETE ON {table} WHEN {when.format(row='OLD')} "
            f"BEGIN {refund_of('OLD.refund_id')} END",
            f"CREATE TRIGGER analytics_{table}_changed AFTER UPDATE OF {columns} ON {table} "
            f"WHEN {when.format(row='OLD')} OR {when.format(row='NEW')} "
            f"BEGIN {refund_of('OLD.refund_id, NEW.refund_id')} END",
        ]
    return found


def _postgresql_triggers() -> list[str]:
    """Inserts and deletes of refunds by statement (a bulk load writes one mark per store-day),
    updates by row, and only when a watched column changed (``json`` has no ``=``: as text)."""
    day = _day("postgresql", "created_at")
    changed = " OR ".join(
        f"OLD.{c}::text IS DISTINCT FROM NEW.{c}::text" if c in ("request", "decision") else
        f"OLD.{c} IS DISTINCT FROM NEW.{c}"
        for c in WATCHED
    )  # fmt: skip
    old_day, new_day = _day("postgresql", "OLD.created_at"), _day("postgresql", "NEW.created_at")
    return [
        f"""CREATE FUNCTION analytics_mark_rows() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            {MARK} SELECT DISTINCT connector, store_id, {day} FROM changed_rows;
            RETURN NULL;
        END $$""",
        f"""CREATE FUNCTION analytics_mark_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            {MARK} VALUES (NEW.connector, NEW.store_id, {new_day});
            IF (OLD.connector, OLD.store_id, {old_day}) IS DISTINCT FROM (NEW.connector, NEW.store_id, {new_day}) THEN
                {MARK} VALUES (OLD.connector, OLD.store_id, {old_day});
            END IF;
            RETURN NULL;
        END $$""",
        f"""CREATE FUNCTION analytics_mark_refund_of() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE ids text[];
        BEGIN
            IF TG_OP = 'INSERT' THEN ids := ARRAY[NEW.refund_id];
            ELSIF TG_OP = 'DELETE' THEN ids := ARRAY[OLD.refund_id];
            ELSE ids := ARRAY[OLD.refund_id, NEW.refund_id];
            END IF;
            {MARK} SELECT connector, store_id, {day} FROM refunds WHERE id = ANY(ids);
            RETURN NULL;
        END $$""",
        "CREATE TRIGGER analytics_refund_added AFTER INSERT ON refunds REFERENCING NEW TABLE AS changed_rows "
        "FOR EACH STATEMENT EXECUTE FUNCTION analytics_mark_rows()",
        "CREATE TRIGGER analytics_refund_removed AFTER DELETE ON refunds REFERENCING OLD TABLE AS changed_rows "
        "FOR EACH STATEMENT EXECUTE FUNCTION analytics_mark_rows()",
        f"CREATE TRIGGER analytics_refund_changed AFTER UPDATE OF {', '.join(WATCHED)} ON refunds "
        f"FOR EACH ROW WHEN ({changed}) EXECUTE FUNCTION analytics_mark_change()",
        "CREATE TRIGGER analytics_audit_added AFTER INSERT ON audit FOR EACH ROW "
        "WHEN (NEW.action = 'reviewed') EXECUTE FUNCTION analytics_mark_refund_of()",
        "CREATE TRIGGER analytics_audit_removed AFTER DELETE ON audit FOR EACH ROW "
        "WHEN (OLD.action = 'reviewed') EXECUTE FUNCTION analytics_mark_refund_of()",
        "CREATE TRIGGER analytics_audit_changed AFTER UPDATE OF refund_id, actor, action, detail ON audit "
        "FOR EACH ROW WHEN (OLD.action = 'reviewed' OR NEW.action = 'reviewed') "
        "EXECUTE FUNCTION analytics_mark_refund_of()",
        "CREATE TRIGGER analytics_feedback_changed AFTER INSERT OR DELETE OR UPDATE OF refund_id, rating, reason "
        "ON feedback FOR EACH ROW EXECUTE FUNCTION analytics_mark_refund_of()",
    ]


def upgrade() -> None:
    op.create_table(
        "analytics_daily",
        sa.Column("figure", sa.String(16), nullable=False),
        sa.Column("connector", sa.String(64), nullable=False),
        sa.Column("store_id", sa.String(255), nullable=False),
        sa.Column("day", sa.String(10), nullable=False),
        *(sa.Column(name, sa.Text, nullable=False) for name in KEYS),
        *(sa.Column(name, sa.BigInteger, nullable=False) for name in VALUES),
        sa.PrimaryKeyConstraint("figure", "store_id", "day", "connector", *KEYS, name="pk_analytics_daily"),
    )
    op.create_table(
        "analytics_dirty",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
        sa.Column("connector", sa.String(64), nullable=False),
        sa.Column("store_id", sa.String(255), nullable=False),
        sa.Column("day", sa.String(10), nullable=False),
    )
    op.create_index("ix_analytics_dirty_store_day", "analytics_dirty", ["store_id", "day"])
    dialect = op.get_bind().dialect.name
    for statement in _postgresql_triggers() if dialect == "postgresql" else _sqlite_triggers():
        op.execute(statement)
    op.execute(f"{MARK} SELECT DISTINCT connector, store_id, {_day(dialect, 'created_at')} FROM refunds")


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    triggers = {"refunds": ("added", "removed", "changed"), "audit": ("added", "removed", "changed"),
                "feedback": ("changed",) if dialect == "postgresql" else ("added", "removed", "changed")}  # fmt: skip
    for table, names in triggers.items():
        for name in names:
            subject = "refund" if table == "refunds" else table
            on = f" ON {table}" if dialect == "postgresql" else ""
            op.execute(f"DROP TRIGGER IF EXISTS analytics_{subject}_{name}{on}")
    if dialect == "postgresql":
        for function in ("analytics_mark_rows", "analytics_mark_change", "analytics_mark_refund_of"):
            op.execute(f"DROP FUNCTION IF EXISTS {function}()")
    op.drop_index("ix_analytics_dirty_store_day", table_name="analytics_dirty")
    op.drop_table("analytics_dirty")
    op.drop_table("analytics_daily")
