"""The Flask layer: thin views over ``hub.ingest`` and the ledger, no business logic."""
