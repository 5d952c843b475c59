"""The soak's checks: the database and every answer against what the clients sent and were told.

budget_never_reached and expected_times decide, from the ledger alone, what each row must hold;
check_database compares that with the rows, and request_checks looks at every answer.
"""
import bisect
from collections import Counter, defaultdict
from itertools import accumulate

from bench.soak.database import database_figures, read_progress
from bench.soak.ledger import Beat, Ledger, Person
from bench.soak.plan import Plan


def budget_never_reached(beats: list[Beat], burst_s: int, margin_s: float = 1.0) -> bool:
    """Whether no heartbeat on a row can have met the row's budget, judged from client-side times.

    The budget is a leaky bucket: with every credit equal to the seconds asked for, heartbeat m
    (in the order the database applied them) is credited in full exactly when, for every earlier
    j, the seconds asked from j to m come to at most t_m - t_j + burst. The server's t lies
    between our send and receive times, and the database may apply overlapping requests in
    either order, so each sum is taken over every heartbeat that could fall between the two.
    """
    asks = [min(b.delta, burst_s) for b in sorted(beats, key=lambda b: b.sent)]
    if sum(asks) <= burst_s - margin_s:
        return True
    ordered = sorted(beats, key=lambda b: b.sent)
    sends = [b.sent for b in ordered]
    longest = max(b.received - b.sent for b in ordered)
    prefix = [0, *accumulate(asks)]
    for first in ordered:
        low = bisect.bisect_left(sends, first.sent - longest)  # could have been applied after `first`
        for last in ordered:
            if last.received < first.sent:
                continue  # answered before `first` was sent: applied before it
            high = bisect.bisect_right(sends, last.received)
            if prefix[high] - prefix[low] > (last.sent - first.received) + burst_s - margin_s:
                return False
    return True


def expected_times(beats: list[Beat], lens_ids: set[str], burst_s: int):
    """(person, content id) -> the seconds its rows must hold, and how each was established."""
    by_person = defaultdict(list)
    for beat in beats:
        by_person[beat.person].append(beat)
    expected, methods, unverifiable = {}, Counter(), []
    for person, own in by_person.items():
        naming = defaultdict(list)
        for beat in own:
            for content in (beat.lens, beat.lo, beat.module):
                naming[content].append(beat)
        for content, named in naming.items():
            if content in lens_ids:
                expected[person, content] = sum(b.credited for b in named)
                methods["lens: X-Credited-Seconds"] += 1
                continue
            lenses = {b.lens for b in named}
            if len(lenses) == 1 and {id(b) for b in naming[next(iter(lenses))]} == {id(b) for b in named}:
                expected[person, content] = sum(b.credited for b in named)
                methods["LO/module: the same heartbeats as its one lens"] += 1
            elif budget_never_reached(named, burst_s):
                expected[person, content] = sum(min(b.delta, burst_s) for b in named)
                methods["LO/module: budget provably never reached"] += 1
            else:
                unverifiable.append((person, content))
    return expected, methods, unverifiable


def check_database(args, database_url: str, plan: Plan, ledger: Ledger, people: list[Person]) -> dict:
    """The database at the end of the run against the ledger, check by check, and its sizes."""
    rows, users, duplicates = read_progress(database_url)
    owners = {}  # owner key -> person
    for person in people:
        if person.token:
            owners["anon", person.token] = person
        if person.email and person.email in users:
            owners["user", users[person.email]] = person
    by_owner = defaultdict(dict)  # owner -> content -> row
    by_person = defaultdict(lambda: defaultdict(list))
    for row in rows:
        owner = ("user", row[1]) if row[1] is not None else ("anon", row[2])
        by_owner[owner][row[3]] = row
        if owner in owners:
            by_person[owners[owner]][row[3]].append(row)
    checks = {
        "time: every row holds exactly what its heartbeats were credited": time_check(
            plan, ledger, people, by_person, args.burst),
        "claims: nothing a signed-up learner's token received stays behind": claims_check(people, by_person),
        "completion: LOs and modules complete exactly when their required lenses are": completion_checks(
            plan, ledger, by_owner, owners),
        "rows: no two rows for one (learner, content)": {"passed": duplicates == 0, "duplicates": duplicates},
    }
    checks["database_figures"] = database_figures(database_url, rows, by_person)
    return checks


def time_check(plan: Plan, ledger: Ledger, people: list[Person], by_person: dict, burst_s: int) -> dict:
    """Every soak learner's rows against the seconds its heartbeats establish (expected_times)."""
    lens_ids = {spot.lens_id for spots in plan.spots.values() for spot in spots}
    expected, methods, unverifiable = expected_times(ledger.beats, lens_ids, burst_s)
    unverifiable_keys = set(unverifiable)
    time_problems = []
    for person in soak_people(people):
        stored = by_person.get(person, {})
        for content in set(stored) | {c for (p, c) in expected if p is person}:
            want = expected.get((person, content), 0)
            have = sum(row[6] for row in stored.get(content, []))
            if (person, content) in unverifiable_keys:
                continue
            if want != have:
                time_problems.append(describe_time_problem(person, content, want, have, ledger, stored.get(content)))
    return {
        "passed": not time_problems and not unverifiable,
        "rows_checked": sum(methods.values()), "by_method": dict(methods),
        "mismatches": len(time_problems), "unverifiable": len(unverifiable),
        "samples": time_problems[:10]
        + [{"unverifiable": str(c), "learner": p.token or p.email} for p, c in unverifiable[:5]],
    }


def soak_people(people: list[Person]) -> set[Person]:
    """The learners the run can find in the database: with a token, an account, or both."""
    return {p for p in people if p.token or p.email}


def claims_check(people: list[Person], by_person: dict) -> dict:
    """No row of a claimer who signed up stays under its anonymous token."""
    orphaned = sum(
        1 for person in soak_people(people) if person.kind == "claimer" and person.email
        for content, found in by_person.get(person, {}).items() if any(r[1] is None for r in found)
    )
    return {
        "passed": orphaned == 0, "claimers_signed_up": sum(p.kind == "claimer" and bool(p.email) for p in people),
        "rows_left_with_the_token": orphaned,
    }


def describe_time_problem(person, content, want, have, ledger, rows) -> dict:
    beats = [b for b in ledger.beats if b.person is person and content in (b.lens, b.lo, b.module)]
    return {
        "learner": person.token, "email": person.email, "kind": person.kind, "content_id": content,
        "content_type": rows[0][4] if rows else None, "expected_s": want, "stored_s": have,
        "rows": [{"id": r[0], "user_id": r[1], "anonymous_token": r[2], "total_time_spent_s": r[6]} for r in rows or []],
        "heartbeats": [{"lens": b.lens, "delta": b.delta, "credited": b.credited, "anonymous": b.anonymous,
                        "sent_s": round(b.sent, 3), "received_s": round(b.received, 3)} for b in beats][:30],
        "signup_sent_s": round(person.signup_started, 3) if person.signup_started else None,
    }


def completion_checks(plan: Plan, ledger: Ledger, by_owner: dict, owners: dict) -> dict:
    problems = []
    owner_of = {person: key for key, person in owners.items()}
    for person, lens_id in ledger.completions:
        row = by_owner.get(owner_of.get(person), {}).get(lens_id)
        if row is None or not row[7]:
            problems.append({"problem": "acknowledged completion not stored", "learner": person.token, "lens": lens_id})
    checked = 0
    for owner in owners:
        stored = by_owner.get(owner, {})
        if not any(row[7] for row in stored.values()):
            continue
        done = {content for content, row in stored.items() if row[7]}
        for module in plan.index.modules:
            for item, required in [(o, o.required_lens_ids) for o in module.outcomes] + [(module, module.required_lens_ids)]:
                checked += 1
                all_done, complete = {str(i) for i in required} <= done, str(item.id) in done
                if all_done != complete:
                    problems.append({
                        "problem": "complete without its lenses" if complete else "lenses complete, LO/module not",
                        "owner": list(owner), "module": module.slug, "item": str(item.id),
                        "item_type": "module" if item is module else "lo", "title": item.title,
                        "required_done": sorted(str(i) for i in required if str(i) in done),
                        "required_missing": sorted(str(i) for i in required if str(i) not in done),
                    })
        for content, row in stored.items():
            if row[7] and (row[8] is None or row[8] > row[6]):
                problems.append({"problem": "time_to_complete_s missing or above the total", "row": row[0]})
    kinds = Counter(p["problem"] for p in problems)
    return {"passed": not problems, "completions_acknowledged": len(ledger.completions),
            "lo_and_module_states_checked": checked, "problems": dict(kinds), "samples": problems[:10]}



def request_checks(ledger: Ledger, traffic_summary: dict) -> dict:
    server_errors = sum(n for kind, t in traffic_summary.items() if kind != "all"
                        for status, n in t["statuses"].items() if status.startswith("5"))
    transport = sum(t["statuses"].get("transport error", 0) for kind, t in traffic_summary.items() if kind != "all")
    return {
        "requests: zero 5xx": {"passed": server_errors == 0, "count": server_errors},
        "requests: zero transport errors (unknown outcomes)": {"passed": transport == 0, "count": transport},
        "requests: every answer as expected": {
            "passed": not ledger.problems, "problems": dict(ledger.problems), "samples": ledger.samples[:15],
        },
    }
