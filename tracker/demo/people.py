"""Who the simulated learners are: accounts with plausible names, and some anonymous tokens."""

import random
import uuid

ANONYMOUS_SHARE = 0.25


def learner_identity(number: int, run: str, rng: random.Random) -> dict:
    """An account (email and name) or an anonymous token."""
    if rng.random() < ANONYMOUS_SHARE:
        return {"anonymous_token": uuid.uuid4()}  # not from `rng`: seeding twice must not repeat tokens
    first = rng.choice(FIRST_NAMES)
    last = rng.choice(LAST_NAMES)
    return {"email": f"{first}.{last}.{number}.{run}@example.org".lower(), "display_name": f"{first} {last}"}


FIRST_NAMES = (
    "Ada",
    "Grace",
    "Alan",
    "Katherine",
    "Edsger",
    "Barbara",
    "Donald",
    "Frances",
    "Tim",
    "Radia",
    "Ken",
    "Margaret",
    "John",
    "Hedy",
    "Dennis",
    "Sophie",
    "Linus",
    "Joan",
    "Niklaus",
    "Mary",
)
LAST_NAMES = (
    "Lovelace",
    "Hopper",
    "Turing",
    "Johnson",
    "Dijkstra",
    "Liskov",
    "Knuth",
    "Allen",
    "Berners-Lee",
    "Perlman",
    "Thompson",
    "Hamilton",
    "McCarthy",
    "Lamarr",
    "Ritchie",
    "Wilson",
    "Torvalds",
    "Clarke",
)
