// The pages work without this script (plain forms, post/redirect/get). With it:
//  - live pages (<body data-live>) re-read themselves when the account's event stream says
//    something changed, and swap the parts marked [data-region] in place;
//  - forms marked data-inplace post in the background and swap the same parts;
//  - times are shown in the browser's own time zone, but those marked data-zone, which are
//    already in the account's (a viewing's time is where the listing is).
"use strict";

(function () {
  const body = document.body;

  function localTimes(root) {
    const today = new Date().toDateString();
    root.querySelectorAll("time[datetime]:not([data-zone])").forEach((el) => {
      const when = new Date(el.getAttribute("datetime"));
      if (Number.isNaN(when.getTime())) return;
      const sameDay = when.toDateString() === today;
      el.textContent = sameDay
        ? when.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })
        : when.toLocaleDateString([], { day: "numeric", month: "short" }) +
          (el.dataset.full !== undefined
            ? " " + when.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })
            : "");
      el.title = when.toLocaleString();
    });
  }

  function stickToBottom() {
    const list = document.querySelector("[data-stick-bottom]");
    if (list) list.lastElementChild?.scrollIntoView({ block: "end" });
  }

  function nearBottom() {
    return window.innerHeight + window.scrollY >= document.body.scrollHeight - 120;
  }

  // Re-reads can overlap: an older one must not replace a newer one. A form's own answer is
  // always shown (it carries its errors); the read after the next event corrects anything else.
  let issued = 0;
  let shown = 0;

  // Replace every [data-region] of this page by the one with the same id in `html`.
  function swapRegions(html, seq) {
    if (seq !== undefined) {
      if (seq < shown) return;
      shown = seq;
    }
    const fresh = new DOMParser().parseFromString(html, "text/html");
    // The conversation a page follows can appear (first message) or go (start over).
    const follows = fresh.body.dataset.liveConversation;
    if (follows) body.dataset.liveConversation = follows;
    else delete body.dataset.liveConversation;
    const wasAtBottom = nearBottom();
    document.querySelectorAll("[data-region]").forEach((old) => {
      const next = fresh.getElementById(old.id);
      if (next) {
        old.replaceWith(next);
        localTimes(next);
      }
    });
    if (wasAtBottom) stickToBottom();
    body.dataset.refreshed = String(Number(body.dataset.refreshed || 0) + 1);
  }

  let refreshing = null;
  let again = false;
  async function refresh() {
    if (refreshing) {
      again = true; // coalesce a burst of events into one more read
      return refreshing;
    }
    refreshing = (async () => {
      try {
        do {
          again = false;
          const seq = ++issued;
          const response = await fetch(location.href, {
            headers: { "X-Requested-With": "fetch" },
            cache: "no-store",
            credentials: "same-origin",
          });
          if (response.redirected && new URL(response.url).pathname === "/login") {
            location.assign(response.url);
            return;
          }
          if (response.ok) swapRegions(await response.text(), seq);
        } while (again);
      } finally {
        refreshing = null;
      }
    })();
    return refreshing;
  }

  function listen() {
    if (body.dataset.live === undefined || !("EventSource" in window)) return;
    const source = new EventSource("/api/v1/events");
    let dropped = false;
    const concerns = (event) => {
      const only = body.dataset.liveConversation;
      if (!only) return true;
      try {
        const data = JSON.parse(event.data);
        const id = data.conversation_id || (data.conversation && data.conversation.id);
        return id === only;
      } catch (_) {
        return true;
      }
    };
    source.addEventListener("open", () => {
      body.dataset.liveState = "open";
      if (dropped) refresh(); // events sent while we were away are not replayed
      dropped = false;
    });
    source.addEventListener("error", () => {
      body.dataset.liveState = "reconnecting";
      dropped = true;
    });
    for (const type of ["message", "message_status", "conversation"]) {
      source.addEventListener(type, (event) => {
        if (concerns(event)) refresh();
      });
    }
    source.addEventListener("resync", () => refresh());
    window.addEventListener("pagehide", () => source.close());
  }

  function enhanceForms() {
    document.addEventListener("submit", async (event) => {
      const form = event.target;
      if (!(form instanceof HTMLFormElement) || form.dataset.inplace === undefined) return;
      event.preventDefault();
      const buttons = form.querySelectorAll("button");
      buttons.forEach((b) => (b.disabled = true));
      try {
        const response = await fetch(form.action, {
          method: "POST",
          body: new FormData(form, event.submitter),
          headers: { "X-Requested-With": "fetch" },
          credentials: "same-origin",
        });
        const landed = new URL(response.url);
        if (landed.pathname !== location.pathname) {
          location.assign(response.url); // signed out, or the form leads elsewhere
          return;
        }
        if (response.ok && form.dataset.reset !== undefined) form.reset();
        swapRegions(await response.text());
        if (response.ok && landed.search !== location.search) {
          history.replaceState(null, "", landed.pathname + landed.search);
        }
      } catch (_) {
        form.submit(); // the network failed: fall back to the plain post
      } finally {
        buttons.forEach((b) => (b.disabled = false));
      }
    });
    // Enter sends, Shift+Enter is a new line, in text areas marked data-enter-submits.
    document.addEventListener("keydown", (event) => {
      const area = event.target;
      if (!(area instanceof HTMLTextAreaElement) || area.dataset.enterSubmits === undefined) return;
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        area.form?.requestSubmit();
      }
    });
  }

  localTimes(document);
  stickToBottom();
  enhanceForms();
  listen();
  body.dataset.ready = "true";
})();
