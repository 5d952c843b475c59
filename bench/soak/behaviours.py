"""What each kind of soak learner does, and the admin reading the dashboard meanwhile."""
import asyncio
import random
import re
import time
import uuid
from collections import Counter, defaultdict

from bench.soak.client import CSRF_FIELD, Load, set_cookie
from bench.soak.ledger import Person
from bench.soak.plan import Spot

ADMIN = ("soak-admin@example.org", "soak admin password")

# Duplicated tabs: mostly 30 s, sometimes bigger or odd values, all within TRACKER_MAX_DELTA_S.
DUPLICATE_DELTAS = (30,) * 20 + (1, 7, 45, 59, 60, 90, 119, 120)


def reader_deltas(interval_s: float) -> tuple[int, ...]:
    """A reader's tab reports at most the seconds since its last heartbeat, often a little less."""
    full = max(1, int(interval_s))
    return (full,) * 8 + (1, max(1, full // 6), max(1, full * 3 // 5), max(1, full - 1))


async def tab(load: Load, person: Person, spots: list[Spot], position: int, spacing: float, deltas, *,
              first_at: float, moves: bool, invalid_share: float = 0.0) -> None:
    """One browser tab: opens a lens page, then sends a heartbeat every `spacing` seconds after the last answer.

    A reader's tab moves on to the next lens now and then, completing the one it leaves.
    """
    spot = spots[position]
    if not await load.sleep_until(first_at):
        return
    await load.page(person, f"/modules/{spot.module_slug}/{spot.lens_name}")
    next_at = time.monotonic() + random.uniform(0.2, 1.0) * spacing
    while await load.sleep_until(next_at):
        if invalid_share and random.random() < invalid_share:
            await load.heartbeat(person, spot, random.choice((0, load.args.max_delta + 1, 100_000, -5)), valid=False)
        else:
            await load.heartbeat(person, spot, random.choice(deltas))
        # Spacing counts from the answer: the tab's heartbeats never overlap, whatever the server's pace.
        next_at = time.monotonic() + spacing * random.uniform(1.0, 1.15)
        if moves and random.random() < 0.2 and load.running(margin=2):
            if spot.lens_type != "chat" and random.random() < 0.5:
                await load.complete(person, spot)
            position = (position + 1) % len(spots)
            spot = spots[position]
            await load.page(person, f"/modules/{spot.module_slug}/{spot.lens_name}")


async def reader(load: Load, person: Person, start_at: float) -> None:
    interval = load.args.interval
    slugs = [random.choice(load.plan.slugs) for _ in range(random.choices((1, 2, 3), (6, 3, 1))[0])]
    per_module = Counter(slugs)
    tabs, opened = [], defaultdict(list)
    for slug in slugs:
        spots = load.plan.spots[slug]
        free = [i for i in range(len(spots)) if i not in opened[slug]]
        position = random.choice(free)
        opened[slug].append(position)
        # One learner is active in one tab at a time: k tabs in a module share its wall clock.
        tabs.append(tab(load, person, spots, position, interval * per_module[slug], reader_deltas(interval),
                        first_at=start_at + random.uniform(0, 3), moves=True))
    await asyncio.gather(*tabs)


async def duplicate(load: Load, person: Person, start_at: float) -> None:
    spots = load.plan.spots[random.choice(load.plan.slugs)]
    position = random.randrange(len(spots))
    copies = random.choice((2, 2, 3))
    await asyncio.gather(*(
        tab(load, person, spots, position, load.args.interval * random.uniform(0.85, 1.0), DUPLICATE_DELTAS,
            first_at=start_at + random.uniform(0, 3), moves=False, invalid_share=0.03)
        for _ in range(copies)
    ))


async def completer(load: Load, person: Person, start_at: float) -> None:
    """Complete lenses module by module; the last two required lenses of each LO at the same moment."""
    slugs = list(load.plan.slugs)
    if random.random() < 0.3:
        random.shuffle(slugs)  # some learners skip around the course
    slugs = slugs[: random.choice((1, 1, 2, 3))]
    if not await load.sleep_until(start_at):
        return
    for slug in slugs:
        await load.page(person, f"/modules/{slug}")
        for required in load.plan.required_by_outcome(slug):
            for spot in required:
                if spot.lens_type == "chat":  # a required chat lens completes only after a message
                    if not load.running(margin=5):
                        return
                    await load.chat(person, spot)
            *first, before_last, last = [None, *required] if len(required) == 1 else required
            for spot in first:
                if not await load.sleep_until(time.monotonic() + random.uniform(4, 16)):
                    return
                await load.complete(person, spot)
            if not await load.sleep_until(time.monotonic() + random.uniform(4, 16)):
                return
            await asyncio.gather(*(load.complete(person, spot) for spot in (before_last, last) if spot))


async def account_reader(load: Load, person: Person, start_at: float) -> None:
    if not await load.sleep_until(start_at):
        return
    if await load.sign_up(person):
        await reader(load, person, time.monotonic())


async def claimer(load: Load, person: Person, start_at: float) -> None:
    """Reads anonymously with a cookie, then signs up while its tabs keep sending heartbeats.

    The sign-up moves the token's rows into the account; heartbeats in flight meanwhile must
    land either in what is moved or after it, never in between.
    """
    spots = load.plan.spots[random.choice(load.plan.slugs)]
    position = random.randrange(len(spots))
    spot = spots[position]
    if not await load.sleep_until(start_at):
        return
    await load.page(person, f"/modules/{spot.module_slug}/{spot.lens_name}")  # hands out the token
    if person.token is None:
        load.ledger.problem("claimer: the first page set no tracker_anon cookie")
        return
    spacing = load.args.interval * 0.9
    tabs = [
        asyncio.create_task(tab(load, person, spots, position, spacing, (30,), first_at=time.monotonic(), moves=False))
        for _ in range(2)
    ]
    signup_at = time.monotonic() + random.uniform(1.5, 3.5) * load.args.interval
    if await load.sleep_until(signup_at) and load.running(margin=10):
        signup = asyncio.create_task(load.sign_up(person))
        extra = [asyncio.create_task(delayed_heartbeat(load, person, spot, delay)) for delay in (0.02, 0.06, 0.1, 0.15)]
        signed_up, *_ = await asyncio.gather(signup, *extra)
        if signed_up:
            await load.page(person, "/me")  # where the sign-up's 303 leads
    await asyncio.gather(*tabs)
    if person.session:  # back another day: the page moves what landed under the token since the login
        await load.page(person, f"/modules/{spot.module_slug}/{spot.lens_name}")


async def delayed_heartbeat(load: Load, person: Person, spot: Spot, delay: float) -> None:
    await asyncio.sleep(delay)
    await load.heartbeat(person, spot, 5)


BEHAVIOURS = {"reader": reader, "duplicate": duplicate, "completer": completer,
              "account": account_reader, "claimer": claimer}


def make_people(args) -> list[Person]:
    people = []
    accounts = args.accounts
    for number in range(args.learners):
        if number < accounts // 2:
            kind = "account"
        elif number < accounts:
            kind = "claimer"
        else:
            kind = random.choices(("reader", "duplicate", "completer"), (55, 30, 15))[0]
        token = None if kind in ("account", "claimer") else str(uuid.uuid4())
        people.append(Person(number, kind, token))
    return people


async def admin_reader(load: Load, pause_s: float = 1.0) -> None:
    """An admin logged in through the form, reading dashboard pages one after another."""
    response = await load.send("admin", "GET", "/login")
    if response is None or response.status_code != 200:
        return
    session, token = set_cookie(response, "session"), CSRF_FIELD.search(response.text)
    form = {"csrf_token": token.group(1) if token else "", "email": ADMIN[0], "password": ADMIN[1]}
    response = await load.send("admin", "POST", "/login", expect=(303,), data=form,
                               headers={"Cookie": f"session={session}"})
    session = response is not None and set_cookie(response, "session")
    if not session:
        load.ledger.problem("admin: could not log in")
        return
    headers = {"Cookie": f"session={session}"}
    pages = ["/admin/", "/admin/insights", *(f"/admin/modules/{slug}" for slug in load.plan.slugs),
             "/admin/learners", "/admin/learners?sort=time", "/admin/learners?sort=modules&dir=asc",
             "/admin/learners?q=soak", "/admin/exports/modules.csv"]
    turn = 0
    while load.running(margin=pause_s):
        path = pages[turn % len(pages)]
        extra = {"HX-Request": "true"} if turn % (2 * len(pages)) == 0 else {}
        response = await load.send("admin", "GET", path, headers={**headers, **extra})
        if response is not None and path == "/admin/learners" and response.status_code == 200:
            found = re.search(r'href="(/admin/learners/(?:anonymous/)?\d+)"', response.text)
            if found and found.group(1) not in pages:
                pages.append(found.group(1))
        turn += 1
        await asyncio.sleep(pause_s)
