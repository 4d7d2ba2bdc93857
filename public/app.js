// MediaNest page behaviour. Loaded from /static with no inline script (strict CSP).
(function () {
  var root = document.documentElement;
  var stored = null;
  try {
    stored = localStorage.getItem("theme");
  } catch (e) {}
  if (stored === "light" || stored === "dark") root.dataset.theme = stored;

  function currentTheme() {
    if (root.dataset.theme) return root.dataset.theme;
    return window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light";
  }

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  // htmx 4 builds requests with fetch; add the session's CSRF token to every one.
  document.addEventListener("htmx:config:request", function (evt) {
    var token = csrfToken();
    if (token && evt.detail && evt.detail.ctx) evt.detail.ctx.request.headers["X-CSRF-Token"] = token;
  });

  document.addEventListener("click", function (evt) {
    var toggle = evt.target.closest && evt.target.closest("[data-theme-toggle]");
    if (toggle) {
      var next = currentTheme() === "dark" ? "light" : "dark";
      root.dataset.theme = next;
      try {
        localStorage.setItem("theme", next);
      } catch (e) {}
      toggle.setAttribute("aria-pressed", String(next === "dark"));
      return;
    }
    var close = evt.target.closest && evt.target.closest("[data-dismiss]");
    if (close) {
      var box = close.closest("[data-dismissable]");
      if (box) box.remove();
    }
  });

  // plex.tv sends the sign-in popup back to /auth/plex/return; the page that opened it finishes the sign-in.
  // window.opener is null by then (Cross-Origin-Opener-Policy cuts it on the way through plex.tv), so just try:
  // only a window opened by script closes; a tab the user opened stays and finishes the sign-in itself.
  document.addEventListener("DOMContentLoaded", function () {
    if (document.querySelector("[data-close-if-popup]")) window.close();
  });

  // The Plex approval page opens in a small popup where the browser allows one, in a new tab otherwise.
  document.addEventListener("click", function (evt) {
    var link = evt.target.closest && evt.target.closest("[data-popup]");
    if (!link) return;
    if (window.open(link.href, "plex-auth", "width=600,height=700")) evt.preventDefault();
  });

  // Times come from the server in UTC as <time datetime data-local>; show them in the viewer's own time zone and
  // keep the UTC time in the title. data-local="title" (a "5 min ago") keeps its text and gets the local time on hover.
  var localTime = null;
  try {
    localTime = new Intl.DateTimeFormat(undefined, {
      year: "numeric",
      month: "short",
      day: "numeric",
      hour: "2-digit",
      minute: "2-digit",
    });
  } catch (e) {}
  function localiseOne(el) {
    var at = new Date(el.getAttribute("datetime"));
    if (!localTime || isNaN(at.getTime())) return;
    var utc = at.toISOString().slice(0, 16).replace("T", " ") + " UTC";
    var local = localTime.format(at);
    if (el.getAttribute("data-local") === "title") {
      el.title = local + " (" + utc + ")";
    } else {
      el.textContent = local;
      el.title = utc;
    }
  }
  function localiseTimes(root) {
    if (root.matches && root.matches("time[data-local]")) localiseOne(root);
    if (root.querySelectorAll) root.querySelectorAll("time[data-local]").forEach(localiseOne);
  }
  // Until the document is parsed, an element the observer reports may still lack its text.
  var parsed = false;
  document.addEventListener("DOMContentLoaded", function () {
    parsed = true;
    localiseTimes(document);
  });

  // Toasts leave on their own after a while; hovering or focusing one keeps it until the pointer or focus leaves.
  var TOAST_MS = 8000;
  function scheduleToast(toast) {
    var timer = setTimeout(function () {
      toast.remove();
    }, TOAST_MS);
    function hold() {
      clearTimeout(timer);
    }
    function release() {
      timer = setTimeout(function () {
        toast.remove();
      }, TOAST_MS / 2);
    }
    toast.addEventListener("mouseenter", hold);
    toast.addEventListener("focusin", hold);
    toast.addEventListener("mouseleave", release);
    toast.addEventListener("focusout", release);
  }
  new MutationObserver(function (records) {
    records.forEach(function (r) {
      r.addedNodes.forEach(function (n) {
        if (n.nodeType !== 1) return;
        if (n.hasAttribute("data-autodismiss")) scheduleToast(n);
        if (parsed) localiseTimes(n);
      });
    });
  }).observe(document.documentElement, { childList: true, subtree: true });
})();
