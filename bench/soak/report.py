"""The soak's summary: the traffic by kind of request, the servers' figures and every check, as printed."""
import json
from collections import Counter, defaultdict

from bench.soak.ledger import Ledger


def percentile(ordered: list[float], share: float) -> float:
    """Nearest rank."""
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, max(0, int(share * len(ordered) + 0.999999) - 1))]


def traffic(ledger: Ledger, elapsed: float) -> dict:
    by_kind = defaultdict(list)
    statuses = defaultdict(Counter)
    for kind, status, sent, received in ledger.requests:
        by_kind[kind].append((received - sent) * 1000)
        statuses[kind][str(status) if status is not None else "transport error"] += 1
    summary = {}
    for kind, latencies in sorted(by_kind.items()):
        latencies.sort()
        summary[kind] = {
            "requests": len(latencies), "per_s": round(len(latencies) / elapsed, 1),
            "p50_ms": round(percentile(latencies, 0.50), 1), "p99_ms": round(percentile(latencies, 0.99), 1),
            "p99_9_ms": round(percentile(latencies, 0.999), 1), "max_ms": round(latencies[-1], 1),
            "statuses": dict(statuses[kind]),
        }
    total = sum(len(v) for v in by_kind.values())
    summary["all"] = {"requests": total, "per_s": round(total / elapsed, 1)}
    return summary


def print_summary(summary: dict) -> None:
    config = summary["config"]
    print(f"\nsoak: {config['learners']:,} learners ({', '.join(f'{n} {k}' for k, n in summary['people'].items())}),"
          f" {summary['elapsed_s']:.0f} s against {config['target']}; seed {config['seed']};"
          f" load average {summary['load_average_before']} before, {summary['load_average_after']} after")
    print("\n| requests | count | per s | p50 ms | p99 ms | p99.9 ms | max ms | statuses |")
    print("|---|---:|---:|---:|---:|---:|---:|---|")
    for kind, t in summary["traffic"].items():
        if kind == "all":
            continue
        statuses = ", ".join(f"{s}: {n:,}" for s, n in sorted(t["statuses"].items()))
        print(f"| {kind} | {t['requests']:,} | {t['per_s']} | {t['p50_ms']} | {t['p99_ms']} | {t['p99_9_ms']}"
              f" | {t['max_ms']} | {statuses} |")
    print(f"| all | {summary['traffic']['all']['requests']:,} | {summary['traffic']['all']['per_s']} | | | | | |")
    print("\ngunicorn workers, peak memory (VmHWM):")
    for name, info in summary["workers"].items():
        workers = ", ".join(f"{w['pid']}: {w['vmhwm_mb']} MB" for w in info["workers"])
        print(f"  {name} (master {info['master']}): {workers}")
    print(f"  PostgreSQL connections to the database, peak: {summary['postgres_connections_peak']}")
    print("\nCPU during the run (share of the machine's cores):")
    for group, used in summary["cpu"].items():
        print(f"  {group}: {used['cpu_s']} s, {used['share_of_machine']:.0%}")
    if summary.get("content_reload"):
        r = summary["content_reload"]
        print(f"\ncontent edit: {r.get('new_title')!r}; reloaded after {r.get('seconds_to_reload')} s;"
              f" pages after the reload: {r.get('pages_after_reload')}")
    figures = summary["checks"].get("database_figures", {})
    if figures:
        print(f"\ndatabase: {figures['rows']:,} rows, {figures['rows_per_learner_mean']} per learner"
              f" (max {figures['rows_per_learner_max']}); {figures['row_bytes_pg_column_size']} bytes per row"
              f" (pg_column_size), {figures['total_bytes_per_row']} bytes per row with indexes")
    print("\nchecks:")
    for name, check in summary["checks"].items():
        if name == "database_figures":
            continue
        detail = {k: v for k, v in check.items() if k not in ("passed", "samples")}
        print(f"  {'PASS' if check['passed'] else 'FAIL'}  {name}  {json.dumps(detail, default=str)}")
        if not check["passed"]:
            for sample in check.get("samples", [])[:5]:
                print(f"        {json.dumps(sample, default=str)[:1500]}")
    print(f"\n{'all checks passed' if summary['passed'] else 'CHECKS FAILED'}")
