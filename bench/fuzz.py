"""Fuzz every webhook endpoint of a whole hub (the embedded default) and count what breaks.

Usage: python bench/fuzz.py [--per-endpoint 2000] [--seed 1] [--endpoint shopify] [--max-seconds 600]

Builds the starter configuration in a temp folder (Shopify, WooCommerce, Magento stores; Stripe,
PayPal, Square accounts), starts their simulators on 127.0.0.1, and sends ``--per-endpoint``
seeded cases to each endpoint in-process through the WSGI app (real SQLite database): mutations
of the official sample payloads and hostile bodies, signed correctly, forged and unsigned, with
content-type and header tricks. Then runs the worker (``drain``) over what was stored. Prints,
per endpoint, the status codes, the 5xx, the worker crashes and the authentic deliveries not
stored (the rule is printed), with a reproducer for each kind of finding. Exits 1 if any 5xx,
unstored authentic delivery, worker crash or stranded delivery was found.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

# Run as ``python bench/fuzz.py``, this file's folder leads sys.path and its name would hide
# the ``bench.fuzz`` package and the ``gateways`` package: the project root goes first.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import bench.in_venv  # noqa: F401  (first: re-executes inside .venv)

# isort: split

from bench.fuzz.endpoints import ENDPOINTS  # noqa: E402
from bench.fuzz.report import print_report  # noqa: E402
from bench.fuzz.rule import RULE  # noqa: E402
from bench.fuzz.runner import Result, run_endpoint  # noqa: E402
from bench.fuzz.world import open_world  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--per-endpoint", type=int, default=2000, help="cases per endpoint (default 2000)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--endpoint", action="append", choices=sorted(ENDPOINTS), help="only these (repeatable)")
    parser.add_argument("--max-seconds", type=float, default=600.0, help="sending budget per endpoint")
    parser.add_argument("--drain-seconds", type=float, default=300.0, help="worker budget per endpoint")
    parser.add_argument("--findings", type=int, default=12, help="reproducers printed per endpoint")
    args = parser.parse_args(argv)
    names = args.endpoint or list(ENDPOINTS)
    print(f"rule: {RULE}\n")
    started = time.monotonic()
    results: list[Result] = []
    with open_world() as world:
        for name in names:
            endpoint = ENDPOINTS[name](world)
            result = run_endpoint(world, endpoint, args.per_endpoint, args.seed, args.max_seconds, args.drain_seconds)
            results.append(result)
            print(
                f"  {name}: {result.sent} sent in {result.send_seconds:.1f} s, {result.jobs_run} jobs in "
                f"{result.drain_seconds:.1f} s",
                flush=True,
            )
    print_report(results, args.seed, args.per_endpoint, time.monotonic() - started, args.findings)
    return 1 if any(r.failed for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
