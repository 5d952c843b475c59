"""What the tests share besides fixtures: `from support.x import ...` (tests/ is on sys.path).

app (test settings, an app on an emptied database), database (migrations, emptying, reading
rows, the snapshot that shows nothing was written), csrf, learners (a learner and the JSON API
as its client uses it), admin, chat, fake_openai, media, pg_cluster, waiting, browser and
players (for tests/browser), and one module per split test file (content, faults, fuzz,
openapi, rate_limits, service).
"""
