/*
 * tracker.js: counts a learner's active seconds on a lens page and reports them.
 *
 * The page renders <div id="tracker" hx-post="/api/progress/time" hx-trigger="tracker:beat"> with
 * the lens, LO and module ids and the heartbeat settings in data-* attributes, all from the
 * server's settings (templates/learn/_tracker.html); this file has no defaults of its own. htmx
 * sends the heartbeat; this file decides when and what it says. (An hx-trigger filter such as
 * [tracker.isActive()] would need eval, which the page's Content Security Policy forbids.)
 *
 * Rules:
 * - Active: the tab is visible, and either there was some activity (scroll, mousemove, keydown,
 *   click, touchstart, or a `tracker:activity` event on document) in the last
 *   data-inactivity-timeout-s seconds, or the learner is watching:
 *   - a <video> or <audio> element of the page is playing (paused or ended does not count);
 *   - an embedded player (iframe[data-tracker-player]) is playing, as the YouTube IFrame API's
 *     postMessage events report it (paused or ended stops counting at once);
 *   - an embedded player whose events we do not get holds the focus (the learner clicked into
 *     it), for at most the video's remaining length (data-duration-s) past that click.
 *   Watching never counts longer than the video has left to play.
 * - Only active time counts. Elapsed time is added up every second and at every change of state,
 *   cut off where the activity or the watching ends. Hidden time never counts, and neither do gaps
 *   of more than 5 s between checks (a sleeping laptop, a frozen tab).
 * - Chunks: unsent seconds leave the count in chunks of at most data-max-delta-s seconds. Each
 *   chunk has a random id, and keeps it however often it is sent: the server credits a chunk once.
 * - Heartbeat: every data-interval-s seconds, if the learner is active, `tracker:beat` is
 *   dispatched on #tracker and htmx posts a chunk of the unsent seconds (under 1 s sends nothing).
 *   2xx means delivered; when the server credited less than it was sent (X-Credited-Seconds), a
 *   warning says so. A 4xx is dropped with a warning, because a retry would fail again. A network
 *   error or 5xx (or 408/429) puts the chunk in the retry queue, id and all: it may have arrived.
 * - Order: while the retry queue holds anything, or the browser is offline, new seconds join the
 *   queue instead of going out live, so that the server always gets older seconds first (a
 *   backlog that arrives after newer seconds would find its time already taken).
 * - When the tab is hidden, on pagehide, or when htmx swaps the tracker element out, the unsent
 *   seconds are sent once with navigator.sendBeacon (to the queue when offline, behind a queue, or
 *   refused). A heartbeat still in flight then goes to the queue first, ahead of them. Counting
 *   pauses until the tab is visible again.
 * - Retry queue: localStorage "tracker.queue", oldest first and shared by the site's tabs. Each
 *   entry is one chunk: its id, lens, LO and module, seconds, when its oldest second was accrued
 *   and whether it has been sent. Seconds that were never sent join the newest entry of their lens
 *   while it has room. The oldest entry is sent when due, with fetch(keepalive) and a JSON body
 *   that says how old the backlog is (backlog_age_s: seconds since its oldest second, by this
 *   browser's clock, so the server's clock need not agree); then the next. Success or a 4xx goes
 *   on with the next; a network error or 5xx puts the entry back in front with exponential backoff
 *   (2 s, doubling up to 5 min). A successful heartbeat or the `online` event makes it due at
 *   once. Entries leave the queue before they are sent, so two tabs never send the same one.
 *   Entries older than data-max-backlog-s are dropped with a warning: the server would not credit
 *   them.
 * - "Mark complete" (form[data-tracker-completion]) sends the unsent seconds as one chunk with the
 *   completion, so that the completion's time includes them; if the queue holds anything, it is
 *   sent first (for up to 5 s). A completion that fails puts its chunk in the queue.
 *
 * window.tracker: isActive(), watching(), activity(), pendingSeconds(), queue(), flush(), bind().
 */
(function () {
  "use strict";
  if (window.tracker && window.tracker.installed) { window.tracker.bind(); return; } // hx-boost re-ran us

  var QUEUE_KEY = "tracker.queue", QUEUE_MAX_ENTRIES = 1000;
  var BACKOFF_MIN_MS = 2000, BACKOFF_MAX_MS = 300000, MAX_GAP_MS = 5000, COMPLETION_WAIT_MS = 5000;
  var MAX_CHUNK_ID = 9007199254740991; // Number.MAX_SAFE_INTEGER: the server takes 1 to this
  var ACTIVITY_EVENTS = ["scroll", "mousemove", "keydown", "click", "touchstart", "tracker:activity"];
  var MEDIA_EVENTS = ["play", "playing", "pause", "ended", "seeked", "ratechange", "emptied"];
  var YT_PLAYING = 1, YT_BUFFERING = 3;

  var el = null, cfg = null, beatTimer = null; // the bound #tracker element, its settings and heartbeat clock
  var limits = null; // the settings of the last bound page: the queue outlives the page it was filled on
  var pendingMs = 0, pendingSince = 0; // active time not yet sent, and when its oldest part was accrued
  var lastActivity = Date.now(), lastAccrual = Date.now();
  var segmentCounts = false, segmentWatchedUntil = 0; // what holds from lastAccrual until the next accrual
  var players = []; // embedded players: {frame, origin, durationMs, api, focusSince, listenTries}
  var inFlight = null; // the live heartbeat on its way: {chunk, ids, url, requeued}
  var unloading = false, draining = false;

  function now() { return Date.now(); }
  function visible() { return document.visibilityState === "visible"; }
  function timeoutMs() { return cfg ? cfg.timeoutS * 1000 : 0; }
  function maxDelta() { return limits.maxDeltaS; }
  function maxBacklogMs() { return limits.maxBacklogS * 1000; }
  function isActive() {
    var t = now();
    return visible() && !unloading && (t - lastActivity < timeoutMs() || watchedUntil(t) > t);
  }

  // Watching: until when the media on the page keep the learner active, judged at time t.
  function watchedUntil(t) {
    var until = 0;
    Array.prototype.forEach.call(document.querySelectorAll("video, audio"), function (media) {
      if (media.paused || media.ended) return;
      var left = (media.duration - media.currentTime) / (media.playbackRate || 1);
      until = Math.max(until, isFinite(left) ? t + Math.max(0, left) * 1000 : t + MAX_GAP_MS);
    });
    players.forEach(function (player) {
      if (player.api) {
        var info = player.api, playing = info.state === YT_PLAYING || info.state === YT_BUFFERING;
        if (playing && info.duration > 0) until = Math.max(until, t + Math.max(0, info.duration - positionOf(info, t)) * 1000);
        else if (playing) until = Math.max(until, t + MAX_GAP_MS);
      } else if (player.focusSince) {
        until = Math.max(until, player.focusSince + player.durationMs);
      }
    });
    return until;
  }
  function positionOf(info, t) { // where a playing video is now, from its last reported position
    return info.currentTime + (info.state === YT_PLAYING ? (t - info.at) / 1000 : 0);
  }
  function watching() { return watchedUntil(now()) > now(); }

  // Add the active part of the time since the last call. Whatever decides it (visibility, the
  // media's state) only changes between calls, so each state change calls this first.
  function accrue() {
    var t = now();
    if (cfg && segmentCounts) {
      var end = Math.min(t, Math.max(lastActivity + timeoutMs(), segmentWatchedUntil), lastAccrual + MAX_GAP_MS);
      if (end > lastAccrual) {
        if (pendingMs < 1) pendingSince = lastAccrual;
        pendingMs += end - lastAccrual;
      }
    }
    lastAccrual = t;
    segmentCounts = visible() && !unloading;
    segmentWatchedUntil = watchedUntil(t);
  }
  function stateChange(change) { accrue(); change(); accrue(); }

  function activity() { accrue(); lastActivity = now(); }
  function pendingSeconds() { accrue(); return Math.floor(pendingMs / 1000); }
  function newChunkId() { return 1 + Math.floor(Math.random() * MAX_CHUNK_ID); }
  function takeChunk() { // the oldest whole unsent seconds, at most max-delta, removed from the count
    accrue();
    var n = Math.min(Math.floor(pendingMs / 1000), maxDelta());
    if (n < 1) return null;
    var chunk = { chunk_id: newChunkId(), seconds: n, accrued_at: pendingSince || now() };
    pendingMs -= n * 1000;
    pendingSince = pendingMs > 0 ? now() - pendingMs : 0;
    return chunk;
  }

  function readConfig(node) {
    var d = node.dataset;
    return {
      ids: { content_id: d.lensId, lo_id: d.loId || null, module_id: d.moduleId || null },
      url: node.getAttribute("hx-post"),
      intervalS: Number(d.intervalS),
      timeoutS: Number(d.inactivityTimeoutS),
      maxDeltaS: Number(d.maxDeltaS),
      maxBacklogS: Number(d.maxBacklogS),
    };
  }
  function bodyFor(ids, chunk) {
    var body = { content_id: ids.content_id, time_delta_s: chunk.seconds, chunk_id: chunk.chunk_id };
    if (ids.lo_id) body.lo_id = ids.lo_id;
    if (ids.module_id) body.module_id = ids.module_id;
    return body;
  }
  function kind(status) { // "ok", "drop" (a retry would fail again) or "retry"
    if (status >= 200 && status < 300) return "ok";
    return status >= 400 && status < 500 && status !== 408 && status !== 429 ? "drop" : "retry";
  }
  function reportCredit(chunk, credited, what) {
    if (credited === null || credited === undefined || credited === "") return;
    if (Number(credited) < chunk.seconds) {
      console.warn("tracker: the server credited " + credited + " of the " + chunk.seconds + " s of " + what +
        " (chunk " + chunk.chunk_id + "): seconds beyond the time budget, older than the longest backlog it" +
        " credits, or sent before are not credited");
    }
  }

  // Send the unsent seconds of the bound lens now, once; used when the page goes away (`leaving`)
  // or out of sight.
  function flush(leaving) {
    accrue();
    if (!cfg) return 0;
    if (leaving && inFlight && !inFlight.requeued) { // the browser may cancel it: keep it, ahead of what follows
      inFlight.requeued = true;
      enqueue(inFlight.ids, inFlight.url, inFlight.chunk, true);
    }
    var sent = 0, chunk;
    while ((chunk = takeChunk())) {
      // A string goes as text/plain, like a Blob of that type, and unlike a Blob shows in devtools.
      var live = !readQueue().length && navigator.onLine !== false && navigator.sendBeacon;
      if (!(live && navigator.sendBeacon(cfg.url, JSON.stringify(bodyFor(cfg.ids, chunk))))) {
        enqueue(cfg.ids, cfg.url, chunk, false);
      }
      sent += chunk.seconds;
    }
    return sent;
  }
  function queueUnsent() { // the unsent seconds join the queue, behind what is there
    var chunk;
    while (cfg && (chunk = takeChunk())) enqueue(cfg.ids, cfg.url, chunk, false);
  }

  // The retry queue.
  function readQueue() {
    if (!limits) return []; // no lens page bound yet: nothing can be sent or split
    var q;
    try { q = JSON.parse(localStorage.getItem(QUEUE_KEY) || "[]"); } catch (e) { q = []; }
    if (!Array.isArray(q)) return [];
    var chunks = [];
    q.forEach(function (entry) {
      if (!entry || typeof entry !== "object" || !(entry.seconds >= 1)) return;
      if (entry.chunk_id) return chunks.push(entry);
      // Left by an earlier version of this file, which kept one total per lens: split it into chunks.
      var accruedAt = now() - entry.seconds * 1000;
      for (var left = Math.floor(entry.seconds); left >= 1; left -= maxDelta()) {
        chunks.push({ chunk_id: newChunkId(), content_id: entry.content_id, lo_id: entry.lo_id || null,
          module_id: entry.module_id || null, url: entry.url, seconds: Math.min(left, maxDelta()),
          accrued_at: accruedAt, sent: false, attempts: entry.attempts || 0, retry_at: entry.retry_at || 0 });
      }
    });
    return chunks;
  }
  function writeQueue(q) {
    try {
      if (q.length) localStorage.setItem(QUEUE_KEY, JSON.stringify(q));
      else localStorage.removeItem(QUEUE_KEY);
    } catch (e) { /* storage full or disabled: nothing more we can do */ }
  }
  function sameLens(a, b) { return a.content_id === b.content_id && a.lo_id === b.lo_id && a.module_id === b.module_id; }
  function backoffMs(attempts) { return Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * Math.pow(2, Math.max(0, attempts - 1))); }
  // A chunk that was sent (`sent`) keeps its seconds and id; unsent seconds may join the newest entry.
  function enqueue(ids, url, chunk, sent) {
    var q = readQueue(), last = q[q.length - 1];
    if (!sent && last && !last.sent && sameLens(last, ids) && last.seconds + chunk.seconds <= maxDelta()) {
      last.seconds += chunk.seconds;
    } else {
      q.push({ chunk_id: chunk.chunk_id, content_id: ids.content_id, lo_id: ids.lo_id || null,
        module_id: ids.module_id || null, url: url, seconds: chunk.seconds, accrued_at: chunk.accrued_at,
        sent: !!sent, attempts: sent ? 1 : 0, retry_at: sent ? now() + backoffMs(1) : 0 });
      if (q.length > QUEUE_MAX_ENTRIES) {
        var dropped = q.splice(0, q.length - QUEUE_MAX_ENTRIES);
        console.warn("tracker: the retry queue is full; dropped its " + dropped.length + " oldest chunks");
      }
    }
    writeQueue(q);
  }
  function forget(chunkId) { // a chunk kept in case it never arrived, which did arrive
    var q = readQueue(), kept = q.filter(function (e) { return e.chunk_id !== chunkId; });
    if (kept.length < q.length) writeQueue(kept);
  }
  function putBack(entry) { // failed again: first in line, after a longer wait
    var q = readQueue();
    entry.attempts = (entry.attempts || 0) + 1;
    entry.retry_at = now() + backoffMs(entry.attempts);
    q.unshift(entry);
    writeQueue(q);
  }
  function dropExpired(q) {
    var oldest = now() - maxBacklogMs();
    var kept = q.filter(function (entry) { return entry.accrued_at >= oldest; });
    if (kept.length < q.length) {
      console.warn("tracker: dropped " + (q.length - kept.length) + " queued chunks older than the longest backlog the server credits");
      writeQueue(kept);
    }
    return kept;
  }
  function makeQueueDue() {
    var q = readQueue(), t = now();
    if (!q.some(function (e) { return e.retry_at > t; })) return;
    q.forEach(function (e) { e.retry_at = 0; });
    writeQueue(q);
  }
  function drain() { // send the oldest entry when due; go on with the next after an answer
    if (draining || navigator.onLine === false) return;
    var q = dropExpired(readQueue()), t = now(), entry = q[0];
    if (!entry || entry.retry_at > t) return;
    q.shift();
    writeQueue(q);
    entry.sent = true;
    draining = true;
    var body = bodyFor(entry, entry);
    body.backlog_age_s = Math.max(0, Math.ceil((t - entry.accrued_at) / 1000)); // rounded up: never too young
    fetch(entry.url, {
      method: "POST", keepalive: true, credentials: "same-origin",
      headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
    }).then(function (r) { return r; }, function () { return null; }).then(function (response) {
      draining = false;
      var status = response ? response.status : 0, k = kind(status);
      if (k === "retry") return putBack(entry);
      if (k === "drop") console.warn("tracker: the server refused " + entry.seconds + " queued seconds (HTTP " + status + "); dropped");
      else reportCredit(entry, response.headers.get("X-Credited-Seconds"), "a queued chunk");
      drain();
    });
  }
  // Call `done` once the queue is empty, or it cannot be emptied now, or after `waitMs`.
  function whenQueueSent(done, waitMs) {
    var deadline = now() + waitMs;
    (function check() {
      drain();
      var q = readQueue(), stuck = q.length && q[0].retry_at > now();
      if (!draining && (!q.length || stuck) || now() >= deadline) return done();
      setTimeout(check, 100);
    })();
  }

  // Ask htmx for a heartbeat; inactive intervals send nothing.
  function beat() {
    if (!el || !isActive()) return;
    if (readQueue().length || navigator.onLine === false) { queueUnsent(); drain(); return; }
    el.dispatchEvent(new CustomEvent("tracker:beat"));
  }

  // Embedded players. The YouTube player reports its state by postMessage once told we are
  // listening (the IFrame API's protocol, spoken here without loading YouTube's script).
  function findPlayers() {
    players = Array.prototype.map.call(document.querySelectorAll("iframe[data-tracker-player]"), function (frame) {
      var player = { frame: frame, origin: originOf(frame.src), durationMs: (Number(frame.dataset.durationS) || 0) * 1000,
        api: null, focusSince: 0, loaded: false, listenTries: 0 };
      // Before its load, the frame holds an empty page of our own origin, which cannot take the message.
      frame.addEventListener("load", function () { player.loaded = true; player.listenTries = 0; listen(player); });
      return player;
    });
  }
  function originOf(url) { try { return new URL(url, location.href).origin; } catch (e) { return null; } }
  function listen(player) {
    if (player.api || !player.loaded || !player.origin || !player.frame.contentWindow || player.listenTries >= 10) return;
    player.listenTries += 1;
    var id = player.frame.id || "tracker-player";
    [{ event: "listening", id: id, channel: "widget" },
     { event: "command", func: "addEventListener", args: ["onStateChange"], id: id, channel: "widget" }]
      .forEach(function (message) { player.frame.contentWindow.postMessage(JSON.stringify(message), player.origin); });
  }
  window.addEventListener("message", function (e) {
    var player = players.filter(function (p) { return p.frame.contentWindow === e.source && p.origin === e.origin; })[0];
    if (!player || typeof e.data !== "string") return;
    var data;
    try { data = JSON.parse(e.data); } catch (err) { return; }
    if (!data || typeof data !== "object") return;
    var info = data.event === "onStateChange" ? { playerState: data.info }
      : data.event === "infoDelivery" || data.event === "initialDelivery" ? data.info : null;
    if (data.event === "onReady" && !player.api) stateChange(function () { player.api = { state: -1, currentTime: 0, duration: 0, at: now() }; });
    if (!info || typeof info !== "object") return;
    stateChange(function () {
      var api = player.api || { state: -1, currentTime: 0, duration: 0, at: now() };
      if (typeof info.playerState === "number") api.state = info.playerState;
      if (typeof info.currentTime === "number") { api.currentTime = info.currentTime; api.at = now(); }
      if (typeof info.duration === "number" && info.duration > 0) api.duration = info.duration;
      player.api = api;
    });
  });
  // Clicking into a player moves the focus into its frame: the page's window blurs.
  window.addEventListener("blur", function () {
    setTimeout(function () { // document.activeElement is the frame only once the blur is over
      var player = players.filter(function (p) { return p.frame === document.activeElement; })[0];
      if (player) stateChange(function () { lastActivity = now(); player.focusSince = now(); });
    }, 0);
  });
  window.addEventListener("focus", function () {
    stateChange(function () { players.forEach(function (p) { p.focusSince = 0; }); });
  });
  function checkPlayerFocus() {
    players.forEach(function (p) {
      if (p.focusSince && document.activeElement !== p.frame) stateChange(function () { p.focusSince = 0; });
    });
  }

  // Binding to the page's #tracker element; htmx may swap it for another lens's.
  function bind() {
    var next = document.getElementById("tracker");
    if (next === el) return;
    unbind();
    el = next;
    cfg = next ? readConfig(next) : null;
    if (cfg) limits = cfg;
    pendingMs = 0;
    pendingSince = 0;
    findPlayers();
    accrue();
    if (cfg) beatTimer = setInterval(beat, cfg.intervalS * 1000);
  }
  function unbind() {
    if (el) flush(true);
    clearInterval(beatTimer);
    beatTimer = null;
    el = null;
    cfg = null;
    players = [];
  }

  // "Mark complete": queued seconds first, then the unsent ones with the completion itself.
  function completionForm(elt) {
    var form = elt && elt.closest ? elt.closest("form[data-tracker-completion]") : null;
    return form && cfg && form.dataset.lensId === cfg.ids.content_id ? form : null;
  }
  document.addEventListener("htmx:confirm", function (e) {
    if (!completionForm(e.detail.elt) || !readQueue().length) return;
    e.preventDefault();
    makeQueueDue();
    whenQueueSent(function () { e.detail.issueRequest(true); }, COMPLETION_WAIT_MS);
  });
  document.addEventListener("submit", function (e) { // without htmx, the form posts itself
    var form = completionForm(e.target), chunk = form && !window.htmx ? takeChunk() : null;
    if (!chunk) return;
    form.elements.time_delta_s.value = String(chunk.seconds);
    form.elements.chunk_id.value = String(chunk.chunk_id);
  }, true);

  document.addEventListener("htmx:configRequest", function (e) {
    var heartbeat = el && e.detail.elt === el, completing = !heartbeat && completionForm(e.detail.elt);
    if (!heartbeat && !completing) return;
    var chunk = takeChunk();
    if (!chunk) { if (heartbeat) e.preventDefault(); return; }
    // A heartbeat names its lens, LO and module; a completion's form names them in its URL.
    var fields = heartbeat ? bodyFor(cfg.ids, chunk) : { time_delta_s: chunk.seconds, chunk_id: chunk.chunk_id };
    Object.keys(fields).forEach(function (name) { e.detail.parameters[name] = String(fields[name]); });
    // The same object comes back as requestConfig in htmx:afterRequest.
    e.detail.tracker = { chunk: chunk, ids: cfg.ids, url: cfg.url, completing: !!completing, requeued: false };
    if (heartbeat) inFlight = e.detail.tracker;
  });
  document.addEventListener("htmx:afterRequest", function (e) {
    var sent = e.detail.requestConfig && e.detail.requestConfig.tracker;
    if (!sent) return;
    e.detail.requestConfig.tracker = null; // htmx fires it again on a parent if the element was swapped out
    if (inFlight === sent) inFlight = null;
    var status = e.detail.xhr ? e.detail.xhr.status : 0, k = kind(status);
    var what = sent.completing ? "a completion" : "a heartbeat";
    if (k === "ok") {
      if (sent.requeued) forget(sent.chunk.chunk_id);
      reportCredit(sent.chunk, e.detail.xhr.getResponseHeader("X-Credited-Seconds"), what);
      return makeQueueDue();
    }
    // A refused completion credited nothing; its seconds still count, as a heartbeat.
    if (k === "drop" && !sent.completing) {
      return console.warn("tracker: the server refused " + what + " of " + sent.chunk.seconds + " s (HTTP " + status + "); dropped");
    }
    if (!sent.requeued) enqueue(sent.ids, sent.url, sent.chunk, true); // its id makes a second delivery count once
  });
  document.addEventListener("htmx:beforeCleanupElement", function (e) { if (e.target === el) unbind(); });
  document.addEventListener("htmx:load", bind);
  document.addEventListener("DOMContentLoaded", bind);
  document.addEventListener("visibilitychange", function () {
    if (visible()) accrue(); else flush(false);
  });
  window.addEventListener("pagehide", function () { flush(true); unloading = true; accrue(); });
  window.addEventListener("pageshow", function (e) { if (e.persisted) { unloading = false; accrue(); drain(); } });
  window.addEventListener("online", function () { makeQueueDue(); drain(); });
  ACTIVITY_EVENTS.forEach(function (type) {
    document.addEventListener(type, activity, { passive: true, capture: true });
  });
  MEDIA_EVENTS.forEach(function (type) { // media events do not bubble, but document sees them while capturing
    document.addEventListener(type, function (e) { if (e.target.matches && e.target.matches("video, audio")) accrue(); }, true);
  });
  setInterval(function () {
    checkPlayerFocus();
    accrue();
    if (el && !document.body.contains(el)) unbind();
    if (!el) bind();
    players.forEach(listen);
    drain();
  }, 1000);

  window.tracker = {
    installed: true, isActive: isActive, watching: watching, activity: activity, pendingSeconds: pendingSeconds,
    queue: readQueue, flush: flush, bind: bind,
  };
  bind();
  drain();
})();
