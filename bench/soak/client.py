"""The soak's one HTTP client: the concurrency gate, and the ledger every request goes into."""
import asyncio
import contextlib
import json
import random
import re
import time
from http.cookiejar import DefaultCookiePolicy

import httpx2 as httpx

from bench.soak.ledger import Beat, Ledger, Person
from bench.soak.plan import Plan, Spot

HEARTBEAT = "/api/progress/time"
COMPLETE = "/api/progress/complete"
CSRF_FIELD = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


class Load:
    """The shared client, the concurrency gate and the ledger every request goes into."""

    def __init__(self, args, plan: Plan, base_url: str, start: float):
        self.args, self.plan, self.start = args, plan, start
        self.deadline = start + args.duration
        self.gate = asyncio.Semaphore(args.concurrency)
        self.ledger = Ledger()
        limits = httpx.Limits(
            max_connections=args.concurrency, max_keepalive_connections=args.concurrency,
            keepalive_expiry=2.0,  # below gunicorn's keepalive (5 s): we drop an idle connection first
        )
        self.client = httpx.AsyncClient(base_url=base_url, limits=limits, timeout=httpx.Timeout(60.0, connect=10.0))
        # One client carries many learners: cookies travel only where a request names them.
        self.client.cookies.jar.set_policy(DefaultCookiePolicy(allowed_domains=[]))

    def running(self, margin: float = 0.0) -> bool:
        return time.monotonic() + margin < self.deadline

    async def sleep_until(self, moment: float) -> bool:
        """Sleep until `moment`; False when that is past the end of the run."""
        if moment >= self.deadline:
            return False
        await asyncio.sleep(max(0.0, moment - time.monotonic()))
        return True

    async def send(self, kind: str, method: str, url: str, expect=(200,), gated: bool = True, **kwargs):
        """One request, recorded; None when its outcome is unknown (a transport error).

        Learners' requests queue at the concurrency gate; probes (gated=False) do not, so that
        what they observe is the servers, not the load generator's own queue.
        """
        async with self.gate if gated else contextlib.nullcontext():
            sent = time.monotonic()
            try:
                response = await self.client.request(method, url, **kwargs)
            except httpx.HTTPError as error:
                received = time.monotonic()
                self.ledger.requests.append((kind, None, sent, received))
                self.ledger.problem(f"transport error: {type(error).__name__}", kind=kind, method=method, url=url,
                                    error=str(error), at_s=round(sent - self.start, 3))
                return None
        received = time.monotonic()
        self.ledger.requests.append((kind, response.status_code, sent, received))
        response.sent, response.received = sent, received
        if response.status_code not in expect:
            self.ledger.problem(
                f"{kind}: status {response.status_code}", kind=kind, method=method, url=url,
                body=str(kwargs.get("json") or kwargs.get("data") or kwargs.get("content") or "")[:300],
                status=response.status_code, response=response.text[:300],
                request_id=response.headers.get("x-request-id"), at_s=round(sent - self.start, 3),
            )
        return response

    # ------------------------------------------------------------ what learners do

    async def page(self, person: Person, path: str):
        response = await self.send("page", "GET", path, headers=person.cookie_header())
        if response is not None and person.token is None:  # a new visitor: the page hands out a token
            cookie = set_cookie(response, "tracker_anon")
            if cookie:
                person.token = cookie
        return response

    async def heartbeat(self, person: Person, spot: Spot, delta: int, valid: bool = True) -> None:
        body = {"content_id": spot.lens_id, "time_delta_s": delta, "lo_id": spot.lo_id, "module_id": spot.module_id}
        anonymous = person.session is None
        shape = random.random()
        if shape < 0.1:  # navigator.sendBeacon: raw JSON as text/plain, the token in the query string
            params = {"anonymous_token": person.token} if anonymous else {}
            request = {"content": json.dumps(body), "headers": {"Content-Type": "text/plain", **person_cookie(person)},
                       "params": params}
        elif shape < 0.2:  # htmx: form-encoded
            request = {"data": {k: str(v) for k, v in body.items()}, "headers": identity_headers(person)}
        else:
            request = {"json": body, "headers": identity_headers(person)}
        response = await self.send("heartbeat", "POST", HEARTBEAT, expect=(204,) if valid else (422,), **request)
        if response is None or response.status_code != 204:
            return
        credited = response.headers.get("x-credited-seconds")
        if credited is None or not credited.isdigit():
            self.ledger.problem("heartbeat: 204 without X-Credited-Seconds", body=body)
            return
        self.ledger.beats.append(Beat(person, spot.lens_id, spot.lo_id, spot.module_id, delta, int(credited),
                                      response.sent, response.received, anonymous))

    async def complete(self, person: Person, spot: Spot) -> None:
        body = {"content_id": spot.lens_id, "content_type": "lens", "module_slug": spot.module_slug}
        response = await self.send("completion", "POST", COMPLETE, json=body, headers=identity_headers(person))
        if response is not None and response.status_code == 200:
            self.ledger.completions.append((person, spot.lens_id))

    async def chat(self, person: Person, spot: Spot) -> None:
        url = f"/api/modules/{spot.module_slug}/{spot.lens_name}/chat"
        body = {"message": f"Could you sum up {spot.lens_name.replace('-', ' ')} in two sentences?"}
        response = await self.send("chat", "POST", url, json=body, headers=identity_headers(person))
        if response is not None and response.status_code == 200 and "event: done" not in response.text:
            self.ledger.problem("chat: the answer's stream did not end with a done event", url=url,
                                response=response.text[-300:])

    async def sign_up(self, person: Person) -> bool:
        """The signup form, with the browser's anonymous cookie when it has one (which claims its progress)."""
        response = await self.send("signup", "GET", "/signup", headers=person_cookie(person, anonymous=True))
        if response is None or response.status_code != 200:
            return False
        session, token = set_cookie(response, "session"), CSRF_FIELD.search(response.text)
        person.email = f"soak-{self.args.seed}-{person.number}@example.org"
        form = {"csrf_token": token.group(1) if token else "", "email": person.email,
                "password": "soak password " + str(person.number), "display_name": f"Soak learner {person.number}"}
        cookies = [f"session={session}"] + ([f"tracker_anon={person.token}"] if person.token else [])
        person.signup_started = time.monotonic()
        response = await self.send("signup", "POST", "/signup", expect=(303,), data=form,
                                   headers={"Cookie": "; ".join(cookies)})
        session = response is not None and response.status_code == 303 and set_cookie(response, "session")
        if session:
            person.session = session
        return bool(session)


def set_cookie(response, name: str) -> str | None:
    for header in response.headers.get_list("set-cookie"):
        key, _, rest = header.partition("=")
        if key.strip() == name:
            value = rest.split(";", 1)[0]
            return value or None
    return None


def person_cookie(person: Person, anonymous: bool = False) -> dict:
    if anonymous:
        return {"Cookie": f"tracker_anon={person.token}"} if person.token else {}
    return person.cookie_header()


def identity_headers(person: Person) -> dict:
    """How the page's scripts say who the learner is: the session cookie, else the token header."""
    if person.session:
        return person.cookie_header()
    return {"X-Anonymous-Token": person.token}
