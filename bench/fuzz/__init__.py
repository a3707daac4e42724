"""Helpers of ``bench/fuzz.py`` and ``tests/fuzz/``: the world (the embedded default in a temp
folder, its simulators, the hub's WSGI app), the official sample payloads, the signers of each
webhook endpoint, the seeded mutators and the runner that sends, drains and counts."""
