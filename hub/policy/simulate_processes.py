"""``simulate`` over several processes, so a long replay (100 000 refunds) uses every core.

The candidate policy and the records reach the workers by ``fork``: nothing is pickled on the way
in (a record holds a whole request and its history, and a compiled CEL rule cannot be pickled).
Each worker replays chunks of 1 000 records and sends back their tally; the tallies are merged in
record order, so the report — samples included — is the one a single process makes, and
``progress`` still hears every 1 000 records. Where the platform cannot fork, or the replay is
one chunk, it runs in this process.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor

from hub.policy.policy import Policy
from hub.policy.simulate import PROGRESS_EVERY, SimulationRecord, Tally, replay

CHUNK = PROGRESS_EVERY
_SHARED: tuple[Policy, Sequence[SimulationRecord], int] | None = None  # what the forked workers inherit


def replay_in_processes(
    candidate: Policy,
    records: Sequence[SimulationRecord],
    progress: Callable[[int], None] | None,
    sample: int,
    processes: int,
) -> Tally:
    global _SHARED
    tally = Tally(sample)
    if len(records) <= CHUNK or "fork" not in multiprocessing.get_all_start_methods():
        replay(candidate, records, tally, progress)
        return tally
    _SHARED = (candidate, records, sample)
    try:
        with ProcessPoolExecutor(processes, mp_context=multiprocessing.get_context("fork")) as pool:
            for part in pool.map(_replay_chunk, range(0, len(records), CHUNK)):
                tally.merge(part)
                if progress is not None:
                    progress(tally.total)
    finally:
        _SHARED = None
    return tally


def _replay_chunk(start: int) -> Tally:
    if _SHARED is None:  # only a worker forked by replay_in_processes runs this
        raise RuntimeError("no replay is running")
    candidate, records, sample = _SHARED
    tally = Tally(sample)
    replay(candidate, records[start : start + CHUNK], tally)
    return tally
