// The web chat page: POST /webchat/messages for each turn, and poll GET /webchat/messages
// for messages pushed outside a turn (receipts, reminders). No framework, no external assets.
// The conversation's id is a session the server issues (POST /webchat/sessions) and that
// expires; it travels in a header, never in a URL, where access logs and history keep it.
(() => {
  "use strict";

  const POLL_MS = 2000;
  const MAX_KEPT = 200; // transcript entries kept in localStorage across reloads
  const SESSION_HEADER = "X-Webchat-Session";
  const KEYS = { session: "rjbill.session", cursor: "rjbill.cursor", transcript: "rjbill.transcript" };
  const LEGACY_KEYS = ["rjbill.sender"]; // ids the page once made itself: no longer accepted
  const URL_RE = /https?:\/\/[^\s<>"']+/g;
  const TRAILING_PUNCTUATION = /[.,;:!?)\]}।]+$/;
  const TEXTS = {
    offline: "Could not reach the server. Please check your connection and try again.\n" +
      "सर्वर से संपर्क नहीं हो पाया। कृपया अपना इंटरनेट जांचें और फिर से प्रयास करें।",
    rejected: "That message could not be sent.\nयह संदेश भेजा नहीं जा सका।",
    download: "Download · डाउनलोड करें",
  };

  const log = document.getElementById("log");
  const empty = document.getElementById("empty");
  const form = document.getElementById("composer");
  const input = document.getElementById("text");

  const store = {
    get(key) { try { return localStorage.getItem(key); } catch { return null; } },
    set(key, value) { try { localStorage.setItem(key, value); } catch { /* private mode */ } },
    remove(key) { try { localStorage.removeItem(key); } catch { /* private mode */ } },
  };

  LEGACY_KEYS.forEach((key) => store.remove(key));
  let session = store.get(KEYS.session) || "";
  let renewing = null;
  let generation = 0; // "New chat" bumps it: turns typed before then are dropped
  let cursor = store.get(KEYS.cursor) || "";
  let transcript = loadTranscript();
  let queue = Promise.resolve(); // turns go out one after another, in the order typed
  let typing = null;

  // A new session from the server, unless another caller already replaced `stale`.
  function renew(stale) {
    if (session && session !== stale) return Promise.resolve(session);
    if (!renewing) {
      renewing = fetch("/webchat/sessions", { method: "POST", cache: "no-store" })
        .then((response) => {
          if (!response.ok) throw new Error(`session: ${response.status}`);
          return response.json();
        })
        .then((body) => {
          session = body.session;
          store.set(KEYS.session, session);
          cursor = "";
          store.set(KEYS.cursor, "");
          return session;
        })
        .finally(() => { renewing = null; });
    }
    return renewing;
  }

  function currentSession() {
    return session ? Promise.resolve(session) : renew("");
  }

  function loadTranscript() {
    try {
      const kept = JSON.parse(store.get(KEYS.transcript) || "[]");
      return Array.isArray(kept) ? kept : [];
    } catch {
      return [];
    }
  }

  function saveTranscript() {
    transcript = transcript.slice(-MAX_KEPT);
    store.set(KEYS.transcript, JSON.stringify(transcript));
  }

  // --- rendering -------------------------------------------------------------------------
  function linkified(text) {
    const fragment = document.createDocumentFragment();
    let last = 0;
    for (const match of text.matchAll(URL_RE)) {
      const url = match[0].replace(TRAILING_PUNCTUATION, "");
      fragment.append(text.slice(last, match.index));
      const a = document.createElement("a");
      a.href = url;
      a.target = "_blank";
      a.rel = "noopener noreferrer";
      a.textContent = url;
      fragment.append(a);
      last = match.index + url.length;
    }
    fragment.append(text.slice(last));
    return fragment;
  }

  function attachmentLink(attachment) {
    const a = document.createElement("a");
    a.className = "file";
    a.href = attachment.url;
    a.target = "_blank";
    a.rel = "noopener noreferrer";
    const icon = document.createElement("span");
    icon.className = "file-icon";
    icon.setAttribute("aria-hidden", "true");
    icon.textContent = attachment.mime === "application/pdf" ? "PDF" : "FILE";
    const name = document.createElement("span");
    name.className = "file-name";
    name.textContent = attachment.filename || "file";
    const hint = document.createElement("span");
    hint.className = "file-hint";
    hint.textContent = TEXTS.download;
    name.append(hint);
    a.append(icon, name);
    return a;
  }

  function render(entry, live) {
    const row = document.createElement("div");
    row.className = `msg ${entry.who}`;
    if (entry.text) {
      const bubble = document.createElement("div");
      bubble.className = "bubble";
      bubble.append(linkified(entry.text));
      row.append(bubble);
    }
    if (entry.attachment && entry.attachment.url) row.append(attachmentLink(entry.attachment));
    if (entry.buttons && entry.buttons.length) {
      const buttons = document.createElement("div");
      buttons.className = "buttons";
      for (const b of entry.buttons) {
        const button = document.createElement("button");
        button.type = "button";
        button.textContent = b.title;
        button.disabled = !live;
        button.addEventListener("click", () => send(b.payload, b.title));
        buttons.append(button);
      }
      row.append(buttons);
    }
    log.insertBefore(row, typing);
    empty.hidden = true;
  }

  function renderAll() {
    log.querySelectorAll(".msg").forEach((node) => node.remove());
    typing = null;
    const lastUser = transcript.map((e) => e.who).lastIndexOf("user");
    transcript.forEach((entry, i) => render(entry, i > lastUser));
    empty.hidden = transcript.length > 0;
    scrollDown();
  }

  function add(entry) {
    if (entry.who === "user") {
      // Buttons answer the question they came with; once the resident moves on they are spent.
      log.querySelectorAll(".buttons button").forEach((b) => { b.disabled = true; });
    }
    transcript.push(entry);
    saveTranscript();
    render(entry, true);
    scrollDown();
  }

  function addBotMessages(messages) {
    for (const m of messages) {
      add({ who: "bot", text: m.text || "", buttons: m.buttons || [], attachment: m.attachment || null });
    }
  }

  function showTyping(on) {
    if (on && !typing) {
      typing = document.createElement("div");
      typing.className = "msg bot typing";
      typing.setAttribute("aria-label", "typing");
      const bubble = document.createElement("div");
      bubble.className = "bubble";
      bubble.append(document.createElement("span"), document.createElement("span"), document.createElement("span"));
      typing.append(bubble);
      log.append(typing);
      scrollDown();
    } else if (!on && typing) {
      typing.remove();
      typing = null;
    }
  }

  function scrollDown() {
    log.scrollTop = log.scrollHeight;
  }

  // --- talking to the gateway ------------------------------------------------------------
  function send(text, shown) {
    add({ who: "user", text: shown || text });
    const typedIn = generation;
    queue = queue.then(() => turn(typedIn, text));
  }

  function post(from, text) {
    return fetch("/webchat/messages", {
      method: "POST",
      headers: { "Content-Type": "application/json", [SESSION_HEADER]: from },
      body: JSON.stringify({ text }),
    });
  }

  // The server says why it refused a session (expired, unknown) in words for the resident;
  // said once per session, though a turn and a poll may both hear it.
  let refused = "";
  async function refusal(from, response) {
    if (from !== session || from === refused) return;
    refused = from;
    const body = await response.json().catch(() => null);
    if (body && Array.isArray(body.messages)) addBotMessages(body.messages);
  }

  async function turn(typedIn, text) {
    if (typedIn !== generation) return; // a new conversation started meanwhile
    showTyping(true);
    try {
      let from = await currentSession();
      let response = await post(from, text);
      if (response.status === 401) {
        await refusal(from, response);
        from = await renew(from);
        response = await post(from, text);
      }
      const body = await response.json().catch(() => null);
      if (typedIn !== generation) return; // a new conversation started meanwhile
      if (body && Array.isArray(body.messages)) addBotMessages(body.messages);
      else add({ who: "system", text: TEXTS.rejected });
    } catch {
      if (typedIn === generation) add({ who: "system", text: TEXTS.offline });
    } finally {
      showTyping(false);
    }
  }

  async function poll() {
    try {
      const from = await currentSession();
      const query = cursor ? `?${new URLSearchParams({ after: cursor })}` : "";
      const response = await fetch(`/webchat/messages${query}`, {
        cache: "no-store",
        headers: { [SESSION_HEADER]: from },
      });
      if (response.status === 401) {
        await refusal(from, response);
        await renew(from);
      } else if (response.ok) {
        const body = await response.json();
        if (from === session) {
          addBotMessages(body.messages || []);
          cursor = body.cursor;
          store.set(KEYS.cursor, cursor);
        }
      }
    } catch {
      // offline for a moment: try again on the next tick
    } finally {
      setTimeout(poll, POLL_MS);
    }
  }

  // --- wiring ----------------------------------------------------------------------------
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    input.value = "";
    autosize();
    send(text);
    input.focus();
  });

  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  });

  function autosize() {
    // scrollHeight leaves out the border; without it the box is 2px short and scrolls.
    input.style.height = "auto";
    const border = input.offsetHeight - input.clientHeight;
    const wanted = input.scrollHeight + border;
    input.style.height = `${wanted}px`;
    // A scrollbar only once the text outgrows the CSS max-height.
    input.style.overflowY = wanted > input.offsetHeight ? "auto" : "hidden";
  }
  input.addEventListener("input", autosize);

  document.getElementById("new-conversation").addEventListener("click", (event) => {
    event.preventDefault();
    generation += 1;
    renew(session).catch(() => add({ who: "system", text: TEXTS.offline }));
    transcript = [];
    saveTranscript();
    showTyping(false);
    renderAll();
    input.focus();
  });

  autosize();
  renderAll();
  poll();
})();
