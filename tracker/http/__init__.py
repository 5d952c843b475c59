"""The request layer that every blueprint shares, and that imports no blueprint.

- request.py    the app's Request class: the parsed body and the learner, worked out once
- body.py       strict parsing of JSON, form and beacon bodies into typed fields
- identity.py   who the learner is: an account, else an anonymous token; the token cookie
- ratelimit.py  rate limits (Flask-Limiter), each per learner and per address
- htmx.py       a full page or the fragment htmx swaps; downloads
- streaming.py  Server-Sent Events that hold no database connection while they stream
"""
