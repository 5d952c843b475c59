"""Embedded video players for browser tests, served in place of YouTube's (which tests cannot reach).

`serve_fake_youtube(page)` answers every https://www.youtube-nocookie.com/embed/... request with
a small player that speaks the IFrame API's postMessage protocol as YouTube's player does: when
the embedding page posts {"event": "listening", "id": ...}, it answers `initialDelivery` and
`onReady`, then reports each state change (`onStateChange` with 1 playing, 2 paused, 0 ended) and,
while playing, `infoDelivery` with the current time, four times a second. Its Play and Pause
buttons stand in for the player's controls. `serve_silent_player(page)` serves a player that
never says anything, like an embed whose events a page cannot get.

The player is its own document on its own origin, as the real one is: input inside it never
reaches the embedding page, which is exactly what the tests rely on.
"""
from dataclasses import dataclass, field

EMBED_ROUTE = "https://www.youtube-nocookie.com/embed/**"

FAKE_YOUTUBE = """<!doctype html>
<html><head><meta charset="utf-8"><title>player</title>
<style>body{margin:0;background:#111;color:#eee;font:16px sans-serif;display:flex;gap:12px;
align-items:center;justify-content:center;height:100vh}button{font-size:18px;padding:8px 16px}</style>
</head><body>
<button id="play">Play</button><button id="pause">Pause</button><span id="clock">0:00</span>
<script>
  var DURATION = %(duration)s, state = -1, position = 0, playingSince = 0, id = null, parentOrigin = "*";
  function current() { return state === 1 ? Math.min(DURATION, position + (Date.now() - playingSince) / 1000) : position; }
  function post(event, info) {
    window.parent.postMessage(JSON.stringify({event: event, info: info, id: id, channel: "widget"}), parentOrigin);
  }
  function setState(next) {
    position = current();
    playingSince = Date.now();
    state = next;
    post("onStateChange", next);
    post("infoDelivery", {playerState: next, currentTime: position, duration: DURATION});
  }
  window.addEventListener("message", function (e) {
    var data;
    try { data = JSON.parse(e.data); } catch (err) { return; }
    if (!data || data.event !== "listening") return;
    id = data.id;
    parentOrigin = e.origin;
    post("initialDelivery", {playerState: state, currentTime: current(), duration: DURATION});
    post("onReady", null);
  });
  document.getElementById("play").addEventListener("click", function () { setState(1); });
  document.getElementById("pause").addEventListener("click", function () { setState(2); });
  setInterval(function () {
    var t = current();
    document.getElementById("clock").textContent = Math.floor(t / 60) + ":" + String(Math.floor(t %% 60)).padStart(2, "0");
    if (state !== 1) return;
    if (t >= DURATION) { setState(0); return; }
    post("infoDelivery", {currentTime: t});
  }, 250);
</script></body></html>"""

SILENT_PLAYER = """<!doctype html>
<html><head><meta charset="utf-8"><title>player</title></head>
<body style="margin:0;background:#222;height:100vh"><button id="play">Play</button></body></html>"""


@dataclass
class FakePlayer:
    requests: list = field(default_factory=list)  # the embed URLs the page asked for
    messages_from_page: list = field(default_factory=list)


def serve_fake_youtube(page, duration_s: float = 1060) -> FakePlayer:
    player = FakePlayer()

    def fulfil(route):
        player.requests.append(route.request.url)
        route.fulfill(status=200, content_type="text/html", body=FAKE_YOUTUBE % {"duration": duration_s})

    page.route(EMBED_ROUTE, fulfil)
    # What the embedding page posts to the player, seen from inside the player's frame.
    page.add_init_script("""
        if (location.origin === "https://www.youtube-nocookie.com") {
            window.addEventListener("message", function (e) { console.log("player got: " + e.data); });
        }
    """)
    page.on("console", lambda message: message.text.startswith("player got: ")
            and player.messages_from_page.append(message.text[len("player got: "):]))
    return player


def serve_silent_player(page) -> FakePlayer:
    player = FakePlayer()

    def fulfil(route):
        player.requests.append(route.request.url)
        route.fulfill(status=200, content_type="text/html", body=SILENT_PLAYER)

    page.route(EMBED_ROUTE, fulfil)
    return player
