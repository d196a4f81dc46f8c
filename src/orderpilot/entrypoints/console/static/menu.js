// The main menu on a narrow screen: folded behind the menu button until it is opened. Loaded
// in <head> without defer and listening on the document, so the button works the moment the
// page shows it.
(function () {
  "use strict";
  function open(button, yes) {
    var bar = button.closest(".topbar");
    if (!bar) { return; }
    bar.classList.toggle("menu-open", yes);
    button.setAttribute("aria-expanded", yes ? "true" : "false");
  }
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest(".menu-toggle");
    if (button) { open(button, button.getAttribute("aria-expanded") !== "true"); }
  });
  document.addEventListener("keydown", function (event) {
    var button = document.querySelector(".menu-toggle[aria-expanded='true']");
    if (event.key === "Escape" && button) {
      open(button, false);
      button.focus();
    }
  });
})();
