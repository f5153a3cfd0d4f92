// engage's only script: small conveniences on top of pages that work without it.
// Served from this server, so the Content-Security-Policy allows it; it adds no inline
// script, loads nothing and sends nothing.
//
// - Copy buttons: <button type="button" data-copy-target="ID" hidden>Copy</button> copies
//   the text of the element with that id. Buttons start hidden and appear only when the
//   script runs, so a page without script shows no dead button.
// - Confirmation: data-confirm="Question?" on a form or on one of its submit buttons asks
//   before sending ("record anyway" after the ask guard's warning, undo).
"use strict";

(function () {
  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text);
    }
    // Older browsers: a selected, off-screen textarea and the copy command.
    return new Promise(function (resolve, reject) {
      var area = document.createElement("textarea");
      area.value = text;
      area.setAttribute("readonly", "");
      area.className = "offscreen-copy";
      document.body.appendChild(area);
      area.select();
      var copied = false;
      try {
        copied = document.execCommand("copy");
      } catch (error) {
        copied = false;
      }
      document.body.removeChild(area);
      if (copied) {
        resolve();
      } else {
        reject(new Error("copy failed"));
      }
    });
  }

  function statusFor(button) {
    var next = button.nextElementSibling;
    if (next && next.classList.contains("copy-status")) {
      return next;
    }
    var status = document.createElement("span");
    status.className = "copy-status";
    status.setAttribute("role", "status");
    button.insertAdjacentElement("afterend", status);
    return status;
  }

  function setUpCopyButtons() {
    var buttons = document.querySelectorAll("button[data-copy-target]");
    Array.prototype.forEach.call(buttons, function (button) {
      var target = document.getElementById(button.getAttribute("data-copy-target"));
      if (!target) {
        return;
      }
      button.hidden = false;
      button.addEventListener("click", function () {
        var status = statusFor(button);
        var text =
          target.tagName === "TEXTAREA" || target.tagName === "INPUT"
            ? target.value
            : target.textContent;
        copyText(text).then(
          function () {
            status.textContent = "Copied";
            button.setAttribute("data-copied", "true");
          },
          function () {
            status.textContent = "Select the text and copy it by hand";
          }
        );
      });
    });
  }

  function setUpConfirmations() {
    document.addEventListener("submit", function (event) {
      var form = event.target;
      var button = event.submitter;
      var question =
        (button && button.getAttribute("data-confirm")) || form.getAttribute("data-confirm");
      if (question && !window.confirm(question)) {
        event.preventDefault();
      }
    });
  }

  function start() {
    setUpCopyButtons();
    setUpConfirmations();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
