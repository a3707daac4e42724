"""Refund Hub: platform webhooks in, policy-checked refunds out, an audited ledger between.

Imports nothing on purpose, so plugins can import ``hub.models`` without pulling in Flask.
"""
