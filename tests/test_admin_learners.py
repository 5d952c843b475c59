"""The learner list: search by email, name or token prefix; sort; keyset pages with no duplicates and no gaps."""

import csv
import io
import re
from html import unescape

import pytest

from support.admin import Account, run_cli
from support.database import query_db

NEXT_LINK = re.compile(r'<a rel="next" href="([^"]+)"')
ROW_KEY = re.compile(r'data-learner="([a-z]+:\d+)"')
SORTS = [
    ("last_active", "desc"),
    ("last_active", "asc"),
    ("time", "desc"),
    ("time", "asc"),
    ("modules", "desc"),
    ("modules", "asc"),
]


@pytest.fixture
def crowd(app):
    """120 simulated learners (accounts and anonymous) at various stages, from the seed command."""
    run_cli(app, "seed-demo-load", "--learners", "120", "--seed", "7")


def all_learner_keys(app) -> set[str]:
    accounts = {f"account:{row[0]}" for row in query_db(app, "SELECT id FROM users")}
    anonymous = {
        f"anonymous:{row[0]}"
        for row in query_db(
            app,
            "SELECT MIN(id) FROM user_content_progress"
            " WHERE content_type = 'module' AND anonymous_token IS NOT NULL GROUP BY anonymous_token",
        )
    }
    return accounts | anonymous


def walk_pages(client, first_url: str) -> list[list[str]]:
    """Follow the "Next" links from the first page; the keys on each page."""
    pages, url = [], first_url
    while url:
        response = client.get(url)
        assert response.status_code == 200
        html = response.get_data(as_text=True)
        pages.append(ROW_KEY.findall(html))
        match = NEXT_LINK.search(html)
        url = unescape(match.group(1)) if match else None
        assert len(pages) < 20, "the pages never end"
    return pages


def exported(client, query: str) -> list[dict]:
    response = client.get(f"/admin/exports/learners.csv?{query}")
    assert response.status_code == 200
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


@pytest.mark.parametrize("sort, direction", SORTS)
def test_paging_through_every_order_shows_each_learner_exactly_once(admin, app, crowd, sort, direction):
    pages = walk_pages(admin, f"/admin/learners?sort={sort}&dir={direction}")
    keys = [key for page in pages for key in page]
    assert all(len(page) == 50 for page in pages[:-1]) and 1 <= len(pages[-1]) <= 50
    assert len(keys) == len(set(keys)), "a learner appeared on two pages"
    assert set(keys) == all_learner_keys(app), "a learner is missing"
    assert len(pages) == 3


@pytest.mark.parametrize("sort, direction", SORTS)
def test_pages_follow_the_sort_order_across_their_boundaries(admin, crowd, sort, direction):
    rows = exported(admin, f"sort={sort}&dir={direction}")
    column = {"last_active": "last_active", "time": "total_time_s", "modules": "modules_completed"}[sort]
    values = [row[column] if sort == "last_active" else int(row[column]) for row in rows]
    if sort == "last_active":  # learners never active sort as the earliest
        values = [value or "0000" for value in values]
    assert values == sorted(values, reverse=direction == "desc")
    pages = walk_pages(admin, f"/admin/learners?sort={sort}&dir={direction}")
    assert len(rows) == sum(len(page) for page in pages)


@pytest.fixture
def named(app, new_api, make_learner):
    """Two accounts with known names, and an anonymous learner with a known token."""
    ada = Account(app, "ada.lovelace@example.org", display_name="Ada Lovelace")
    Account(app, "grace@navy.example", display_name="Grace Hopper")
    token = "abcdef12-3456-4789-8abc-def012345678"
    assert new_api().heartbeat(make_learner(token), "how-memory-works", "memory-in-three-stages", 30).status_code == 204
    return ada, token


@pytest.mark.parametrize(
    "search, expected",
    [
        ("lovelace", ["Ada Lovelace"]),
        ("ADA.LOVE", ["Ada Lovelace"]),
        ("hopper", ["Grace Hopper"]),
        ("navy.example", ["Grace Hopper"]),
        ("abcdef", ["Anonymous · abcdef12"]),
        ("ABCDEF12-34", ["Anonymous · abcdef12"]),
        ("abcdef123456", ["Anonymous · abcdef12"]),
        ("bcdef", []),  # a token matches by prefix only
        ("%", []),
        ("_", []),
        ("no such person", []),
    ],
)
def test_search_finds_learners_by_email_name_or_token_prefix(admin, named, search, expected):
    rows = exported(admin, f"q={search}")
    assert [row["learner"] for row in rows if row["learner"] != "staff@example.org"] == expected
    html = admin.get("/admin/learners", query_string={"q": search}, headers={"HX-Request": "true"}).get_data(
        as_text=True
    )
    for label in expected:
        assert label in html


def test_search_results_page_too(admin, app, crowd):
    accounts = query_db(app, "SELECT COUNT(*) FROM users WHERE email LIKE '%example.org'")[0][0]
    assert accounts > 50
    pages = walk_pages(admin, "/admin/learners?q=example.org&sort=time")
    keys = [key for page in pages for key in page]
    assert len(keys) == len(set(keys)) == accounts
    assert all(key.startswith("account:") for key in keys)


def test_accounts_without_progress_are_listed_with_zeros(admin, named):
    rows = {row["learner"]: row for row in exported(admin, "")}
    assert rows["Grace Hopper"]["total_time_s"] == "0"
    assert rows["Grace Hopper"]["last_active"] == ""
    assert rows["Anonymous · abcdef12"]["total_time_s"] == "30"
