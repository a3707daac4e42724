"""The fuzz run's printout: a table per endpoint, then each kept finding with its reproducer."""

from __future__ import annotations

from bench.fuzz.runner import Result


def table(results: list[Result]) -> str:
    head = (
        "| endpoint | sent | status codes | 5xx | must store | not stored | worker crashes | stranded | "
        "deliveries after drain |"
    )
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for r in results:
        codes = " ".join(f"{code}:{n}" for code, n in sorted(r.statuses.items()))
        after = " ".join(f"{status}:{n}" for status, n in sorted(r.delivery_statuses.items()))
        if r.retrying:
            after += f" (retrying: {r.retrying})"
        lines.append(
            f"| {r.endpoint} | {r.sent} | {codes} | {r.five_xx} | {r.must_store} | {r.unstored} | {r.crashes} | "
            f"{r.stranded} | {after} |"
        )
    return "\n".join(lines)


def print_report(results: list[Result], seed: int, per_endpoint: int, seconds: float, shown: int) -> None:
    print(f"\nseed {seed}, {per_endpoint} cases per endpoint, {seconds:.0f} s\n")
    print(table(results))
    for r in results:
        for finding in r.findings[:shown]:
            print(f"\n--- {finding.kind} on {finding.endpoint}: {finding.detail}")
            if finding.case:
                for key, value in finding.case.items():
                    print(f"    {key}: {value!r}")
            if finding.traceback:
                print("    " + finding.traceback.strip().replace("\n", "\n    ")[-4000:])
    bad = [r.endpoint for r in results if r.failed]
    print("\nFAILED: " + ", ".join(bad) if bad else "\nno 5xx, no unstored authentic delivery, no worker crash")
