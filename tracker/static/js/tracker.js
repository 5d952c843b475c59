/*
 * tracker.js: counts a learner's active seconds on a lens page and reports them.
 *
 * The page renders <div id="tracker" hx-post="/api/progress/time" hx-trigger="tracker:beat"
 * hx-include="#tracker-fields"> with the lens, LO and module ids and the heartbeat interval in
 * data-* attributes. htmx sends the heartbeat; this file decides when and what it says. (An
 * hx-trigger filter such as [tracker.isActive()] would need eval, which the page's Content
 * Security Policy forbids.)
 *
 * Rules:
 * - Active: some activity (scroll, mousemove, keydown, click, touchstart, or a `tracker:activity`
 *   event on document) in the last data-inactivity-timeout-s seconds, and the tab visible.
 * - Only active time counts. Elapsed time is added up every second and at every change of state,
 *   cut off at last activity + timeout. Hidden time never counts, and neither do gaps of more than
 *   5 s between checks (a sleeping laptop, a frozen tab).
 * - Heartbeat: every data-interval-s seconds after the element is bound, if the learner is active,
 *   `tracker:beat` is dispatched on it and htmx posts. On htmx:configRequest, time_delta_s is set
 *   to the whole unsent seconds, at most data-max-delta-s, and they leave the count. Under 1 s
 *   cancels the request. Then 2xx means delivered. A 4xx is dropped with a warning, because a retry
 *   would fail again. A network error or 5xx (or 408/429) puts the seconds in the retry queue.
 * - When the tab is hidden, on pagehide, or when htmx swaps the tracker element out, the unsent
 *   seconds are sent once with navigator.sendBeacon (straight to the queue when offline or refused).
 *   Counting then pauses until the tab is visible again. Sent seconds leave the count at once, so a
 *   hide followed by pagehide never sends the same seconds twice.
 * - Retry queue: localStorage "tracker.queue", one entry per lens/LO/module (seconds add up), at
 *   most 20 entries (the oldest go first) and 3600 s each. It is retried on load and then every
 *   second once due, with fetch(keepalive) and a JSON body, at most max-delta seconds per request.
 *   Success removes what was delivered, a 4xx drops it, and a network error or 5xx puts it back with
 *   exponential backoff (2 s, doubling up to 5 min). A successful heartbeat or the `online` event
 *   makes it due at once. Seconds leave the queue before they are sent, so two tabs never send the
 *   same seconds.
 * - A heartbeat still in flight when the page unloads is not queued again: it has most likely
 *   arrived, and the server cannot tell a replay from new time.
 *
 * window.tracker: isActive(), activity(), pendingSeconds(), queue(), flush(), bind().
 */
(function () {
  "use strict";
  if (window.tracker && window.tracker.installed) { window.tracker.bind(); return; } // hx-boost re-ran us

  var QUEUE_KEY = "tracker.queue", QUEUE_MAX_ENTRIES = 20, QUEUE_MAX_SECONDS = 3600;
  var BACKOFF_MIN_MS = 2000, BACKOFF_MAX_MS = 300000, MAX_GAP_MS = 5000;
  var ACTIVITY_EVENTS = ["scroll", "mousemove", "keydown", "click", "touchstart", "tracker:activity"];

  var el = null, cfg = null, beatTimer = null; // the bound #tracker element, its settings and heartbeat clock
  var pendingMs = 0; // active time not yet sent
  var lastActivity = Date.now(), lastAccrual = Date.now(), segmentCounts = false;
  var unloading = false, draining = false;

  function now() { return Date.now(); }
  function visible() { return document.visibilityState === "visible"; }
  function timeoutMs() { return (cfg ? cfg.timeoutS : 300) * 1000; }
  function maxDelta() { return cfg ? cfg.maxDeltaS : 120; }
  function isActive() { return visible() && !unloading && now() - lastActivity < timeoutMs(); }

  // Add the active part of the time since the last call; visibility only changes between calls.
  function accrue() {
    var t = now();
    if (cfg && segmentCounts) {
      var end = Math.min(t, lastActivity + timeoutMs(), lastAccrual + MAX_GAP_MS);
      if (end > lastAccrual) pendingMs += end - lastAccrual;
    }
    lastAccrual = t;
    segmentCounts = visible() && !unloading;
  }

  function activity() { accrue(); lastActivity = now(); }
  function pendingSeconds() { accrue(); return Math.floor(pendingMs / 1000); }
  function takeSeconds() { // whole unsent seconds, at most max-delta, removed from the count
    var n = Math.min(Math.floor(pendingMs / 1000), maxDelta());
    pendingMs -= n * 1000;
    return n;
  }

  function readConfig(node) {
    var d = node.dataset;
    return {
      ids: { content_id: d.lensId, lo_id: d.loId || null, module_id: d.moduleId || null },
      url: d.heartbeatUrl || node.getAttribute("hx-post") || "/api/progress/time",
      intervalS: Number(d.intervalS) || 30,
      timeoutS: Number(d.inactivityTimeoutS) || 300,
      maxDeltaS: Number(d.maxDeltaS) || 120,
    };
  }
  function bodyFor(ids, seconds) {
    var body = { content_id: ids.content_id, time_delta_s: seconds };
    if (ids.lo_id) body.lo_id = ids.lo_id;
    if (ids.module_id) body.module_id = ids.module_id;
    return body;
  }
  function kind(status) { // "ok", "drop" (a retry would fail again) or "retry"
    if (status >= 200 && status < 300) return "ok";
    return status >= 400 && status < 500 && status !== 408 && status !== 429 ? "drop" : "retry";
  }

  // Send the unsent seconds of the bound lens now, once; used when the page goes away.
  function flush() {
    accrue();
    if (!cfg) return 0;
    var sent = 0, n;
    while ((n = takeSeconds()) >= 1) {
      // A string goes as text/plain, like a Blob of that type, and unlike a Blob shows in devtools.
      var body = JSON.stringify(bodyFor(cfg.ids, n));
      var queued = navigator.onLine !== false && navigator.sendBeacon && navigator.sendBeacon(cfg.url, body);
      if (!queued) enqueue(cfg.ids, cfg.url, n, 0);
      sent += n;
    }
    return sent;
  }

  // The retry queue.
  function readQueue() {
    try {
      var q = JSON.parse(localStorage.getItem(QUEUE_KEY) || "[]");
      return Array.isArray(q) ? q : [];
    } catch (e) { return []; }
  }
  function writeQueue(q) {
    try {
      if (q.length) localStorage.setItem(QUEUE_KEY, JSON.stringify(q));
      else localStorage.removeItem(QUEUE_KEY);
    } catch (e) { /* storage full or disabled: nothing more we can do */ }
  }
  function sameLens(a, b) { return a.content_id === b.content_id && a.lo_id === b.lo_id && a.module_id === b.module_id; }
  function enqueue(ids, url, seconds, attempts) {
    var q = readQueue(), entry = q.filter(function (e) { return sameLens(e, ids); })[0];
    if (!entry) {
      entry = { content_id: ids.content_id, lo_id: ids.lo_id || null, module_id: ids.module_id || null,
                url: url, seconds: 0, attempts: 0, retry_at: 0 };
      q.push(entry);
      if (q.length > QUEUE_MAX_ENTRIES) q.splice(0, q.length - QUEUE_MAX_ENTRIES);
    }
    entry.seconds = Math.min(QUEUE_MAX_SECONDS, entry.seconds + seconds);
    entry.attempts = Math.max(entry.attempts, attempts);
    var backoff = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * Math.pow(2, entry.attempts));
    entry.retry_at = Math.max(entry.retry_at, now() + backoff);
    writeQueue(q);
  }
  function makeQueueDue() {
    var q = readQueue(), t = now();
    if (!q.some(function (e) { return e.retry_at > t; })) return;
    q.forEach(function (e) { e.retry_at = 0; });
    writeQueue(q);
  }
  function drain() { // send one due chunk; go on with the next after a success
    if (draining || navigator.onLine === false) return;
    var q = readQueue(), t = now();
    var entry = q.filter(function (e) { return e.retry_at <= t && e.seconds >= 1; })[0];
    if (!entry) return;
    var n = Math.min(entry.seconds, maxDelta());
    entry.seconds -= n;
    if (entry.seconds < 1) q.splice(q.indexOf(entry), 1);
    writeQueue(q);
    draining = true;
    fetch(entry.url || (cfg && cfg.url) || "/api/progress/time", {
      method: "POST", keepalive: true, credentials: "same-origin",
      headers: { "Content-Type": "application/json" }, body: JSON.stringify(bodyFor(entry, n)),
    }).then(function (r) { return r.status; }, function () { return 0; }).then(function (status) {
      draining = false;
      var k = kind(status);
      if (k === "retry") return enqueue(entry, entry.url, n, entry.attempts + 1);
      if (k === "drop") console.warn("tracker: the server refused " + n + " queued seconds (HTTP " + status + "); dropped");
      drain();
    });
  }

  // Ask htmx for a heartbeat; inactive intervals send nothing.
  function beat() {
    if (el && isActive()) el.dispatchEvent(new CustomEvent("tracker:beat"));
  }

  // Binding to the page's #tracker element; htmx may swap it for another lens's.
  function bind() {
    var next = document.getElementById("tracker");
    if (next === el) return;
    unbind();
    el = next;
    cfg = next ? readConfig(next) : null;
    pendingMs = 0;
    accrue();
    if (cfg) beatTimer = setInterval(beat, cfg.intervalS * 1000);
  }
  function unbind() {
    if (el) flush();
    clearInterval(beatTimer);
    beatTimer = null;
    el = null;
    cfg = null;
  }

  document.addEventListener("htmx:configRequest", function (e) {
    if (!el || e.detail.elt !== el) return;
    accrue();
    var n = takeSeconds();
    if (n < 1) { e.preventDefault(); return; }
    e.detail.parameters.time_delta_s = String(n);
    e.detail.tracker = { seconds: n, ids: cfg.ids, url: cfg.url }; // the same object comes back as requestConfig
  });
  document.addEventListener("htmx:afterRequest", function (e) {
    var sent = e.detail.requestConfig && e.detail.requestConfig.tracker;
    if (!sent) return;
    e.detail.requestConfig.tracker = null; // htmx fires it again on a parent if the element was swapped out
    var status = e.detail.xhr ? e.detail.xhr.status : 0, k = kind(status);
    if (k === "ok") return makeQueueDue();
    if (k === "drop") return console.warn("tracker: the server refused a heartbeat of " + sent.seconds + " s (HTTP " + status + "); dropped");
    if (status === 0 && unloading) return;
    enqueue(sent.ids, sent.url, sent.seconds, 0);
  });
  document.addEventListener("htmx:beforeCleanupElement", function (e) { if (e.target === el) unbind(); });
  document.addEventListener("htmx:load", bind);
  document.addEventListener("DOMContentLoaded", bind);
  document.addEventListener("visibilitychange", function () {
    if (visible()) accrue(); else flush();
  });
  window.addEventListener("pagehide", function () { flush(); unloading = true; accrue(); });
  window.addEventListener("pageshow", function (e) { if (e.persisted) { unloading = false; accrue(); drain(); } });
  window.addEventListener("online", function () { makeQueueDue(); drain(); });
  ACTIVITY_EVENTS.forEach(function (type) {
    document.addEventListener(type, activity, { passive: true, capture: true });
  });
  setInterval(function () {
    accrue();
    if (el && !document.body.contains(el)) unbind();
    if (!el) bind();
    drain();
  }, 1000);

  window.tracker = {
    installed: true, isActive: isActive, activity: activity, pendingSeconds: pendingSeconds,
    queue: readQueue, flush: flush, bind: bind,
  };
  bind();
  drain();
})();
