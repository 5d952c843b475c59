/*
 * chat.js: the tutor chat panel (templates/learn/_chat.html).
 *
 * htmx posts the learner's message and appends what the server sends back: the message, and an
 * answer placeholder <li data-answer-url data-autostart>. This file then POSTs to that URL and
 * reads the answer as Server-Sent Events with fetch: each `chunk` event ({text, html}) carries
 * the answer so far, rendered and sanitised by the server, and `done` or `error` ({html, error})
 * replace the placeholder with the stored answer.
 *
 * Sending and every chunk dispatch `tracker:activity`, so tracker.js counts a learner who reads
 * a long answer as active. Failed sends show the server's message (422, 429, 409) under the log;
 * a failed answer keeps the learner's message and offers "Try again".
 */
(function () {
  "use strict";

  function activity() { document.dispatchEvent(new CustomEvent("tracker:activity")); }

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  }

  function panelParts(node) {
    var panel = node.closest(".chat");
    return panel && {
      panel: panel,
      status: panel.querySelector(".chat-status"),
      send: panel.querySelector(".chat-form [type=submit]"),
      textarea: panel.querySelector(".chat-form textarea"),
    };
  }

  // The chat form behind an htmx event: on error answers htmx reports the target as `elt`.
  function chatForm(e) {
    var node = (e.detail.requestConfig && e.detail.requestConfig.elt) || e.detail.elt;
    return node instanceof Element && node.matches(".chat-form") ? node : null;
  }

  function fromHtml(html) {
    var template = document.createElement("template");
    template.innerHTML = html.trim();
    return template.content.firstElementChild;
  }

  // Call onEvent(type, data) for each event of a text/event-stream body; data is JSON.
  async function readEvents(response, onEvent) {
    var reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    var buffer = "";
    for (;;) {
      var chunk = await reader.read();
      if (chunk.done) return;
      buffer += chunk.value;
      var end;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        var block = buffer.slice(0, end), type = "message", data = [];
        buffer = buffer.slice(end + 2);
        block.split("\n").forEach(function (line) {
          if (line.startsWith(":")) return; // a comment: the server's "stream open"
          var colon = line.indexOf(":");
          var field = colon < 0 ? line : line.slice(0, colon);
          var value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
          if (field === "event") type = value;
          else if (field === "data") data.push(value);
        });
        if (data.length) onEvent(type, JSON.parse(data.join("\n")));
      }
    }
  }

  async function errorText(response) { // the server's error fragment, as text
    var text = new DOMParser().parseFromString(await response.text(), "text/html").body.textContent;
    return text.trim() || "The tutor could not answer (HTTP " + response.status + ").";
  }

  function showProblem(item, message, canRetry) {
    var note = document.createElement("p");
    note.className = "error";
    note.setAttribute("role", "alert");
    note.textContent = message + (canRetry ? " Your message is kept." : "");
    item.appendChild(note);
    if (canRetry) {
      var retry = document.createElement("button");
      retry.type = "button";
      retry.className = "button secondary";
      retry.dataset.retry = "";
      retry.textContent = "Try again";
      item.appendChild(retry);
    }
  }

  // Stream the answer into its placeholder <li>, then swap in the stored answer.
  async function streamAnswer(item) {
    if (item.dataset.streaming) return;
    item.dataset.streaming = "true";
    var parts = panelParts(item), body = item.querySelector(".message-body"), text = null, ended = false;
    if (parts) parts.send.disabled = true;
    item.setAttribute("aria-busy", "true");
    item.classList.add("streaming");
    item.querySelectorAll(".error, [data-retry]").forEach(function (node) { node.remove(); });
    body.innerHTML = '<p class="muted">Thinking…</p>';
    try {
      var response = await fetch(item.dataset.answerUrl, {
        method: "POST", credentials: "same-origin",
        headers: { "X-CSRFToken": csrfToken(), "HX-Request": "true", "Accept": "text/event-stream" },
      });
      if (!response.ok) {
        body.innerHTML = "";
        return showProblem(item, await errorText(response), response.status !== 422);
      }
      await readEvents(response, function (type, data) {
        if (type === "chunk") {
          if (data.html) body.innerHTML = data.html; // the answer so far, rendered and sanitised by the server
          else {
            if (text === null) { text = document.createElement("p"); text.className = "streaming"; body.replaceChildren(text); }
            text.textContent += data.text;
          }
          activity();
        } else if (type === "done" || type === "error") {
          ended = true;
          if (data.html) { var stored = fromHtml(data.html); item.replaceWith(stored); item = stored; }
          else body.innerHTML = "";
          if (data.error) showProblem(item, data.error, !data.html);
        }
      });
      if (!ended) showProblem(item, "The connection broke off before the answer was complete.", true);
    } catch (error) {
      showProblem(item, "Could not reach the server. Check your connection.", true);
    } finally {
      delete item.dataset.streaming;
      item.removeAttribute("aria-busy");
      item.classList.remove("streaming");
      if (parts) parts.send.disabled = false;
    }
  }

  document.addEventListener("htmx:load", function (e) {
    var node = e.detail.elt;
    if (node instanceof Element && node.matches("[data-answer-url][data-autostart]")) streamAnswer(node);
  });

  document.addEventListener("click", function (e) {
    var retry = e.target instanceof Element && e.target.closest("[data-retry]");
    if (retry) streamAnswer(retry.closest("[data-answer-url]"));
  });

  // Enter sends; Shift+Enter (or an input method composing text) makes a new line.
  document.addEventListener("keydown", function (e) {
    var form = e.target instanceof Element && e.target.closest(".chat-form");
    if (!form || e.target.tagName !== "TEXTAREA" || e.key !== "Enter" || e.shiftKey || e.isComposing) return;
    e.preventDefault();
    var parts = panelParts(form);
    if (!parts.send.disabled) form.requestSubmit();
  });

  document.addEventListener("htmx:beforeRequest", function (e) {
    var form = chatForm(e);
    if (!form) return;
    activity();
    var parts = panelParts(form);
    parts.send.disabled = true;
    parts.status.textContent = "";
  });

  // An error answer (422 empty or too long, 429 too fast, 409 still answering) shows in the status line.
  document.addEventListener("htmx:beforeSwap", function (e) {
    var form = chatForm(e);
    if (!form || e.detail.xhr.status < 400) return;
    var parts = panelParts(form);
    e.detail.shouldSwap = true;
    e.detail.isError = false;
    e.detail.target = parts.status;
    e.detail.swapOverride = "innerHTML";
  });

  document.addEventListener("htmx:afterRequest", function (e) {
    var form = chatForm(e);
    if (!form) return;
    var parts = panelParts(form), status = e.detail.xhr ? e.detail.xhr.status : 0;
    if (status >= 200 && status < 300) {
      form.reset();
      parts.textarea.focus();
    } else {
      parts.send.disabled = false;
      if (!status) parts.status.innerHTML = '<span class="error" role="alert">Could not reach the server. Check your connection and send again.</span>';
    }
  });
})();
