/*
 * questions.js: a lens's questions (templates/learn/segments/question.html).
 *
 * htmx posts an answer and swaps in the question the server sends back, saved. A refusal (422 an
 * empty or too long answer, 404 no such question, 429 too many answers) comes back as an error
 * fragment, which htmx does not swap by itself: this shows it in the question's status line and
 * leaves the learner's text in the box.
 */
(function () {
  "use strict";
  if (window.trackerQuestions) return; // the partial may carry this script more than once
  window.trackerQuestions = true;

  function questionForm(e) {
    var node = (e.detail.requestConfig && e.detail.requestConfig.elt) || e.detail.elt;
    return node instanceof Element && node.matches("form[data-question-form]") ? node : null;
  }

  document.addEventListener("htmx:beforeRequest", function (e) {
    var form = questionForm(e);
    if (!form) return;
    form.querySelector(".question-status").textContent = "";
    form.querySelector("[type=submit]").disabled = true;
  });

  document.addEventListener("htmx:beforeSwap", function (e) {
    var form = questionForm(e);
    if (!form || e.detail.xhr.status < 400) return;
    e.detail.shouldSwap = true;
    e.detail.isError = false;
    e.detail.target = form.querySelector(".question-status");
    e.detail.swapOverride = "innerHTML";
  });

  document.addEventListener("htmx:afterRequest", function (e) {
    var form = questionForm(e);
    if (!form || !form.isConnected) return; // saved: the new question has replaced this form
    form.querySelector("[type=submit]").disabled = false;
    if (!e.detail.xhr || !e.detail.xhr.status) {
      form.querySelector(".question-status").innerHTML =
        '<span class="error" role="alert">Could not reach the server. Check your connection and save again.</span>';
    }
  });
})();
