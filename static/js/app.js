/* Progressive enhancement only: every page works without this file. Texts come from data- attributes
   set by the (translated) templates. Loaded with <script defer>, so the DOM is ready. */
(function () {
  "use strict";

  function each(selector, fn) {
    Array.prototype.forEach.call(document.querySelectorAll(selector), fn);
  }

  // Forms that submit as soon as a <select> changes (the language switch); their button is then not needed.
  each("form[data-submit-on-change]", function (form) {
    Array.prototype.forEach.call(form.querySelectorAll("[type=submit]"), function (button) {
      button.hidden = true;
    });
    Array.prototype.forEach.call(form.querySelectorAll("select"), function (select) {
      select.addEventListener("change", function () {
        form.submit();
      });
    });
  });

  // Move focus to a form's error summary so screen readers announce it after a failed submit.
  var summary = document.querySelector(".error-summary");
  if (summary) {
    summary.focus();
  }

  // "Copy" buttons: <button data-copy-target="element-id" data-copied-text="Copied." hidden>,
  // with an aria-live element marked data-copy-status beside them.
  each("[data-copy-target]", function (button) {
    var target = document.getElementById(button.getAttribute("data-copy-target"));
    if (!target || !navigator.clipboard) {
      return;
    }
    var status = button.parentNode.querySelector("[data-copy-status]");
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
  each("form[data-confirm]", function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.getAttribute("data-confirm"))) {
        event.preventDefault();
      }
    });
  });
})();
