// The main menu on a narrow screen: folded behind the menu button until it is opened.
(function () {
  "use strict";
  function setUp() {
    var button = document.querySelector(".menu-toggle");
    var bar = document.querySelector(".topbar");
    if (!button || !bar) { return; }
    function open(yes) {
      bar.classList.toggle("menu-open", yes);
      button.setAttribute("aria-expanded", yes ? "true" : "false");
    }
    button.addEventListener("click", function () {
      open(button.getAttribute("aria-expanded") !== "true");
    });
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && bar.classList.contains("menu-open")) {
        open(false);
        button.focus();
      }
    });
  }
  document.addEventListener("DOMContentLoaded", setUp);
})();
