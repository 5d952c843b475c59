"""Soak test: a mixed load on gunicorn + PostgreSQL, then an exact check of the database against
what the clients sent and were told.

The load, from one asyncio process (httpx) with bounded concurrency, for --duration seconds
(default 300) with --learners learners (default 10,000) arriving over the first three quarters:

- readers: 1-3 tabs, each on a lens (tabs in one module on different lenses), a heartbeat every
  30 s per tab; they move on to the next lens now and then, completing the one they leave, and
  view each lens page they open. A learner is active in one tab at a time, so a reader with k tabs
  in a module sends from each of them every k x 30 s (deltas of 30 s, sometimes fewer).
- duplicates: the same lens open in 2-3 tabs, each sending 30 s every 30 s, sometimes bigger or
  odd values, and now and then an invalid one (0, over TRACKER_MAX_DELTA_S) that must get 422.
  Their seconds outrun the wall clock, so the per-row budget cuts them down.
- completers: work through modules lens by lens, send the tutor a message before completing a
  chat lens, and complete the last two required lenses of every LO at the same moment (two
  concurrent requests); the last LO's pair completes the module at that moment too.
- accounts: learners who sign up first and then read; claimers, who read anonymously and sign
  up mid-session (claiming their progress) while their tabs keep sending heartbeats.
- an admin, logged in through the login form, reading the dashboard pages.
- half-way through, a lens title is edited in the content directory; every instance's /readyz
  must report the new content fingerprint, and lens pages must then show the new title.

Every response is recorded. At the end the database must match exactly:

- lens rows: total_time_spent_s is the sum of X-Credited-Seconds of the heartbeats that named the
  lens. X-Credited-Seconds is the lens row's credit; the LO and module rows have budgets of their
  own. An LO or module row whose heartbeats all named one lens, and that lens only ever with this
  LO and module, went through the same sequence of budget updates as the lens row, so it must hold
  the same sum. Any other LO or module row (a reader moving between lenses) must hold the sum of
  the requested seconds, when the client's own send and receive times prove that the row's budget
  was never reached; a row for which neither holds cannot be checked exactly and fails the run.
- every LO and module whose required lenses are all complete is complete, and none is complete
  before its lenses; every acknowledged completion is stored.
- no two rows for one (learner, content); zero 5xx, zero transport errors, no unexpected status.
- nothing stays under a claimer's token: heartbeats in flight while it signed up land in the
  account, at the latest with its next page.

Run it against a gunicorn it starts itself, on a database of its own (dropped and recreated):

    .venv/bin/python -m bench.soak                       # 5 minutes, 10,000 learners
    .venv/bin/python -m bench.soak --duration 30 --learners 1000 --json soak.json

or against a running setup (scripts/two-instances: two instances behind nginx), giving the
database and content directory it uses and the instances to ask for /readyz:

    .venv/bin/python -m bench.soak --target http://127.0.0.1:8080 \\
        --instance http://127.0.0.1:8001 --instance http://127.0.0.1:8002 \\
        --database-url postgresql://postgres@127.0.0.1:5432/tracker_soak --content-dir RUN/content

Every request comes from 127.0.0.1, so the per-address rate limits must be raised on a target for
the load not to be limited (SOAK_RATE_LIMITS in bench/soak/server.py; a gunicorn started here gets
them). The per-learner limits keep their defaults: no soak learner comes near them, and any 429
fails the run. The exit status is 1 when any check failed.

The package, in the order of a run: run.py (the command line and the run), plan.py (the content
as learners meet it), client.py (the shared HTTP client and every request it records),
behaviours.py (what each kind of learner does), reload.py (the content edit), watch.py (workers'
memory and the machine's CPU), ledger.py (what the clients sent and were told), checks.py (the
database against the ledger), report.py (the summary); server.py and database.py set up and
read the database and the gunicorn a run starts itself.
"""
