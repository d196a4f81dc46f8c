// The orders list: tick every order on the page at once; show only the bulk fields of the
// chosen action. Everything still works without it (the server checks every field).
(function () {
  "use strict";
  function wire(root) {
    root.querySelectorAll("[data-pick-all]").forEach(function (box) {
      box.addEventListener("change", function () {
        var form = box.closest("form");
        form.querySelectorAll("input[name=order_ids]").forEach(function (one) {
          one.checked = box.checked;
        });
      });
    });
    root.querySelectorAll("[data-bulk-action]").forEach(function (select) {
      function show() {
        select.closest("form").querySelectorAll("[data-for-action]").forEach(function (el) {
          el.hidden = el.dataset.forAction !== select.value;
        });
      }
      select.addEventListener("change", show);
      show();
    });
  }
  document.addEventListener("DOMContentLoaded", function () { wire(document); });
  document.addEventListener("htmx:afterSettle", function (e) { wire(e.target); });
})();
