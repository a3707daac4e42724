"""Outgoing webhooks: refund events signed per the Standard Webhooks spec and delivered to the
endpoints merchants subscribe, from the durable outbox the ledger writes (docs/webhooks.md)."""
