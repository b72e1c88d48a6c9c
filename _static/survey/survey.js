/* The student's pages: one item at a time within a page, and the admin's auto-advance.
   Works without this script too: then every item of the page is shown at once. */
(function () {
  "use strict";
  var script = document.getElementById("survey-js");
  var form = document.getElementById("form");
  if (!script || !form) return;

  // --- One item at a time: tap an answer, the next item appears; all sent together.
  var box = form.querySelector(".items.stepper");
  if (box) {
    var items = Array.prototype.slice.call(box.querySelectorAll(".item"));
    var back = form.querySelector(".back-item");
    var itemOf = script.getAttribute("data-item-of") || "{item} / {total}";
    var errorText = script.getAttribute("data-error") || "";
    var current = 0;
    var answered = function (i) { return !!items[i].querySelector("input:checked"); };
    var optional = function (i) { return items[i].id === "q_gender"; };
    var firstOpen = items.findIndex(function (el, i) {
      return el.classList.contains("has-error") || !answered(i);
    });
    var counter = document.createElement("p");
    counter.className = "item-count";
    box.parentNode.insertBefore(counter, box);

    var show = function (i, quiet) {
      current = i;
      items.forEach(function (el, j) { el.hidden = j !== i; });
      counter.textContent = itemOf.replace("{item}", i + 1).replace("{total}", items.length);
      if (back) back.hidden = i === 0;
      var legend = items[i].querySelector("legend");
      if (legend && !quiet) { legend.setAttribute("tabindex", "-1"); legend.focus({ preventScroll: true }); }
      if (!quiet) window.scrollTo(0, 0);
    };
    var flag = function (i) {
      var el = items[i];
      if (el.querySelector(".error")) return;
      var p = document.createElement("p");
      p.className = "error"; p.id = "err_js_" + i; p.setAttribute("role", "alert");
      p.textContent = errorText;
      el.classList.add("has-error");
      el.setAttribute("aria-describedby", p.id);
      el.querySelector("legend").insertAdjacentElement("afterend", p);
    };
    box.addEventListener("change", function (e) {
      var i = items.indexOf(e.target.closest(".item"));
      var err = items[i].querySelector(".error");
      if (err) { err.remove(); items[i].classList.remove("has-error"); }
      if (i === current && i < items.length - 1) {
        setTimeout(function () { if (current === i) show(i + 1); }, 250);
      }
    });
    if (back) back.addEventListener("click", function () { if (current > 0) show(current - 1); });
    form.addEventListener("submit", function (e) {
      if (e.submitter && e.submitter.name) return; // e.g. language buttons
      if (!answered(current) && !optional(current)) { e.preventDefault(); flag(current); return; }
      if (current < items.length - 1) { e.preventDefault(); show(current + 1); return; }
      var missing = items.findIndex(function (el, j) { return !answered(j) && !optional(j); });
      if (missing >= 0) { e.preventDefault(); show(missing); flag(missing); }
    });
    show(firstOpen >= 0 ? firstOpen : 0, true);
  }

  // --- The admin's "advance slowest participants": reload when told. A dropped
  // connection only reconnects; it never moves the student off the page.
  var url = script.getAttribute("data-socket-url");
  if (url && window.WebSocket) {
    var delay = 1000;
    var connect = function () {
      var scheme = location.protocol === "https:" ? "wss://" : "ws://";
      var ws;
      try { ws = new WebSocket(scheme + location.host + url); } catch (e) { return; }
      ws.onopen = function () { delay = 1000; };
      ws.onmessage = function (e) {
        try { if (JSON.parse(e.data).auto_advanced) location.reload(); } catch (err) { /* ignore */ }
      };
      ws.onclose = function () { setTimeout(connect, delay); delay = Math.min(delay * 2, 30000); };
    };
    connect();
  }
})();
