/* The student's pages, progressively enhanced: one item at a time, answers that survive a
   dropped connection or a reload, and the admin's auto-advance.
   Without this script every page is a plain form: all items shown, an ordinary POST. */
(function () {
  "use strict";
  var PREFIX = "survey:"; // localStorage key: PREFIX + page path (/p/<participant>/<app>/<Page>/<index>)
  var TIMEOUT = window.SURVEY_TIMEOUT_MS || 15000; // no answer by then counts as failed
  var KEEP = 2 * 24 * 3600 * 1000; // unsent answers older than this are dropped (shared phones)
  var socket = null, socketTimer = null, socketDelay = 1000;
  var page = null; // the page on screen: {key, form, body, sending, attempt, timer, notice}
  // Browsers without these still get the stepper; their forms are then sent the plain way.
  var enhanced = !!(window.fetch && window.URLSearchParams && window.FormData && window.DOMParser &&
    window.history && history.replaceState);

  // --- Unsent answers, kept in the browser until the server has them.
  function storage() { try { return window.localStorage; } catch (e) { return null; } }
  function where(path) {
    var m = /^\/p\/([^/]+)\/[^/]+\/[^/]+\/(\d+)/.exec(path || "");
    return m ? { code: m[1], index: +m[2] } : null;
  }
  function read(key) {
    var s = storage();
    try { return s ? JSON.parse(s.getItem(key)) : null; } catch (e) { return null; }
  }
  function write(key, value) {
    var s = storage();
    value.at = Date.now();
    try { if (s) s.setItem(key, JSON.stringify(value)); } catch (e) { /* full or private mode */ }
  }
  function forget(key) {
    var s = storage();
    try { if (s) s.removeItem(key); } catch (e) { /* ignore */ }
  }
  // Pages this participant has left behind never need their answers again; nor does
  // anything left on this browser for days.
  function forgetEarlier(here) {
    var s = storage();
    if (!s || !here) return;
    for (var i = s.length - 1; i >= 0; i--) {
      var k = s.key(i);
      var w = k && k.indexOf(PREFIX) === 0 ? where(k.slice(PREFIX.length)) : null;
      if (!w) continue;
      var old = (read(k) || {}).at < Date.now() - KEEP;
      if (old || (w.code === here.code && w.index < here.index)) s.removeItem(k);
    }
  }
  function answersOf(form) {
    var out = {};
    Array.prototype.forEach.call(form.querySelectorAll("input[type=radio],input[type=checkbox]"), function (el) {
      if (el.checked) out[el.name] = el.value;
      else if (el.type === "checkbox" && !(el.name in out)) out[el.name] = null;
    });
    return out;
  }
  function restore(form, answers) {
    Object.keys(answers || {}).forEach(function (name) {
      Array.prototype.forEach.call(form.querySelectorAll("input"), function (el) {
        if (el.name !== name) return;
        if (el.type === "checkbox") el.checked = answers[name] === el.value;
        else if (el.type === "radio" && el.value === answers[name]) el.checked = true;
      });
    });
  }

  // --- Messages about the connection, in the page's language (texts from Base.html).
  function say(kind) {
    if (!page || !page.notice) return;
    page.notice.textContent = kind ? page.script.getAttribute("data-" + kind) || "" : "";
  }

  // --- Sending: fetch the same URL as the form would, keep the answers until it worked.
  function send() {
    var p = page;
    if (!p || typeof p.body !== "string" || p.sending) return; // a double tap while a request is in flight
    clearTimeout(p.timer);
    p.sending = true;
    p.form.setAttribute("aria-busy", "true");
    var ctrl = window.AbortController ? new AbortController() : null;
    var watchdog = setTimeout(function () { if (ctrl) ctrl.abort(); }, TIMEOUT);
    fetch(location.href, {
      method: "POST",
      body: p.body,
      // the server may answer with the next page itself (one request per page turn),
      // its URL in X-Survey-Page-Url; otherwise it redirects, and fetch follows
      headers: { "Content-Type": "application/x-www-form-urlencoded", "X-Survey-Inline": "1" },
      credentials: "same-origin",
      cache: "no-store",
      signal: ctrl ? ctrl.signal : undefined
    }).then(function (r) {
      if (r.status >= 500) throw new Error("server " + r.status);
      var shown = r.headers.get("X-Survey-Page-Url");
      var url = shown ? new URL(shown, location.href).href : r.url;
      return r.text().then(function (html) { return { url: url, html: html }; });
    }).then(function (res) {
      clearTimeout(watchdog);
      p.sending = false;
      if (page !== p) return;
      try { arrive(res.url, res.html); } catch (e) { location.replace(res.url); } // the server has it
    }, function () {
      clearTimeout(watchdog);
      p.sending = false;
      p.form.removeAttribute("aria-busy");
      if (page !== p) return;
      p.attempt += 1;
      say("offline");
      // Retry with backoff (2, 4, 8, … 30 s), and at once when the browser is back online.
      p.timer = setTimeout(send, Math.min(30000, 1000 * Math.pow(2, p.attempt)));
    });
  }

  // Show the server's answer in place: the next page came with the answer (or after the
  // server's redirect), and no stylesheet or script is fetched again. Anything that is not one of our pages is opened normally.
  function arrive(url, html) {
    var doc = new DOMParser().parseFromString(html, "text/html");
    if (!doc.getElementById("survey-js") || !doc.body) { location.replace(url); return; }
    var target = new URL(url, location.href);
    if (target.pathname !== location.pathname) forget(page.key);
    else write(page.key, { answers: answersOf(page.form) }); // shown again with an error
    clearTimeout(page.timer);
    page = null;
    closeSocket();
    history.replaceState(null, "", target.href);
    document.title = doc.title;
    document.documentElement.lang = doc.documentElement.lang;
    document.body.replaceWith(document.adoptNode(doc.body));
    window.scrollTo(0, 0);
    init(true);
  }

  // --- One item at a time: tap an answer, the next item appears; all sent together.
  function stepper(form, script) {
    var box = form.querySelector(".items.stepper");
    if (!box) return null;
    var items = Array.prototype.slice.call(box.querySelectorAll(".item"));
    var back = form.querySelector(".back-item");
    var itemOf = script.getAttribute("data-item-of") || "{item} / {total}";
    var errorText = script.getAttribute("data-error") || "";
    var current = 0;
    var answered = function (i) { return !!items[i].querySelector("input:checked"); };
    var optional = function (i) { return items[i].id === "q_gender"; };
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
      el.setAttribute("aria-invalid", "true");
      el.setAttribute("aria-describedby", p.id);
      el.querySelector("legend").insertAdjacentElement("afterend", p);
    };
    // Move on by itself only after a tap or click: arrow keys also change a radio group's
    // choice, and a keyboard user must be able to look through the options (WCAG 3.2.2).
    var tapped = 0;
    box.addEventListener("pointerdown", function () { tapped = Date.now(); });
    box.addEventListener("click", function (e) { if (e.detail) tapped = Date.now(); });
    box.addEventListener("change", function (e) {
      var i = items.indexOf(e.target.closest(".item"));
      var err = items[i].querySelector(".error");
      if (err) {
        err.remove(); items[i].classList.remove("has-error");
        items[i].removeAttribute("aria-invalid"); items[i].removeAttribute("aria-describedby");
      }
      if (i === current && i < items.length - 1 && Date.now() - tapped < 2000) {
        setTimeout(function () { if (current === i) show(i + 1); }, 250);
      }
    });
    if (back) back.addEventListener("click", function () { if (current > 0) show(current - 1); });
    var firstOpen = items.findIndex(function (el, i) {
      return el.classList.contains("has-error") || (!answered(i) && !optional(i));
    });
    show(firstOpen >= 0 ? firstOpen : items.length - 1, true);
    // true when the form may be sent; otherwise moves to the item that needs an answer
    return function ready() {
      if (!answered(current) && !optional(current)) { flag(current); return false; }
      if (current < items.length - 1) { show(current + 1); return false; }
      var missing = items.findIndex(function (el, j) { return !answered(j) && !optional(j); });
      if (missing >= 0) { show(missing); flag(missing); return false; }
      return true;
    };
  }

  // --- The admin's "advance slowest participants": reload when told. A dropped
  // connection only reconnects; it never moves the student off the page.
  function connect(url) {
    if (!url || !window.WebSocket) return;
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    var ws;
    try { ws = new WebSocket(scheme + location.host + url); } catch (e) { return; }
    socket = ws;
    ws.onopen = function () { socketDelay = 1000; };
    ws.onmessage = function (e) {
      var data = null;
      try { data = JSON.parse(e.data); } catch (err) { return; }
      if (data && data.auto_advanced) location.reload();
    };
    ws.onclose = function () {
      if (socket !== ws) return; // closed on purpose: the page was left
      socketTimer = setTimeout(function () { connect(url); }, socketDelay);
      socketDelay = Math.min(socketDelay * 2, 30000);
    };
  }
  function closeSocket() {
    clearTimeout(socketTimer);
    var ws = socket;
    socket = null;
    if (ws) { try { ws.close(); } catch (e) { /* ignore */ } }
  }

  function init(arrived) {
    var script = document.getElementById("survey-js");
    var form = document.getElementById("form");
    if (!script) return;
    var key = PREFIX + location.pathname;
    forgetEarlier(where(location.pathname));
    if (form) {
      var saved = read(key);
      if (saved && saved.answers) restore(form, saved.answers);
      page = {
        key: key, form: form, script: script, body: saved ? saved.pending : undefined,
        sending: false, attempt: 0, timer: null, notice: document.getElementById("net-status")
      };
      var ready = stepper(form, script);
      var p = page;
      form.addEventListener("change", function () {
        var s = read(key) || {};
        s.answers = answersOf(form);
        write(key, s);
      });
      var pressed = null; // the button, where a browser lacks SubmitEvent.submitter
      form.addEventListener("click", function (e) {
        var b = e.target.closest && e.target.closest("button[type=submit]");
        if (b) pressed = b;
      });
      form.addEventListener("submit", function (e) {
        var submitter = e.submitter || pressed;
        pressed = null;
        var language = submitter && submitter.name === "switch_language";
        if (!language && ready && !ready()) { e.preventDefault(); return; }
        if (!enhanced) return;
        e.preventDefault();
        var body = new URLSearchParams();
        new FormData(form).forEach(function (v, k) { body.append(k, v); });
        if (submitter && submitter.name) body.append(submitter.name, submitter.value);
        p.body = body.toString();
        write(key, { answers: answersOf(form), pending: p.body });
        p.attempt = 0;
        send();
      });
      if (enhanced && typeof p.body === "string") { say("restored"); send(); } // sent before a reload, never confirmed
    } else {
      forget(key);
    }
    if (arrived) {
      var h1 = document.querySelector("h1");
      if (h1) { h1.setAttribute("tabindex", "-1"); h1.focus({ preventScroll: true }); }
    }
    connect(script.getAttribute("data-socket-url"));
    if (window.performance && performance.mark) performance.mark("survey-ready");
    document.documentElement.setAttribute("data-ready", location.pathname);
  }

  window.addEventListener("online", function () {
    if (page && typeof page.body === "string" && !page.sending) { page.attempt = 0; send(); }
  });
  init(false);
})();
