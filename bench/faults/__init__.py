"""Helpers of ``bench/faults.py``: the world (configuration, simulators, hub processes), the traffic,
the faults, and the loss counts."""
