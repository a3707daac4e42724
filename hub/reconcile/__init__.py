"""Reconciliation and backfill: the ledger compared with what each gateway and platform lists
(docs/reconciliation.md). Over the pipeline (it imports through ``hub.pipeline.intake``), under
the janitor and the CLI."""
