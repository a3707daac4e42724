"""The ledger: refunds and their state machine, payments and their refundable balance, the audit trail."""
