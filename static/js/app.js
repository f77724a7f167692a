/* Progressive enhancement only: every page works without this file. Texts come from data- attributes
   set by the (translated) templates. Loaded with <script defer>, so the DOM is ready. */
(function () {
  "use strict";

  // Move focus to a form's error summary so screen readers announce it after a failed submit.
  var summary = document.querySelector(".error-summary");
  if (summary) {
    summary.focus();
  }

  // "Copy" buttons: <button data-copy-target="element-id" data-copied-text="Copied." hidden>.
  Array.prototype.forEach.call(document.querySelectorAll("[data-copy-target]"), function (button) {
    var target = document.getElementById(button.getAttribute("data-copy-target"));
    if (!target || !navigator.clipboard) {
      return;
    }
    var status = button.parentNode.querySelector("[role=status]");
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(target.textContent.trim()).then(function () {
        if (status) {
          status.textContent = button.getAttribute("data-copied-text") || "";
        }
      });
    });
  });

  // Ask before destructive actions: <form data-confirm="Really?">.
  Array.prototype.forEach.call(document.querySelectorAll("form[data-confirm]"), function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.getAttribute("data-confirm"))) {
        event.preventDefault();
      }
    });
  });
})();
