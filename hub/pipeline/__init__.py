"""The worker's pipeline: parse → fetch → ledger → policy → route → execute → record → audit.

It knows no Flask and no SDK: connectors and gateways are reached only through their contracts.
"""
