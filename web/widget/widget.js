/* faqbot chat widget: one script tag adds a launcher button and a chat panel.
 *
 *   <script src="https://HOST/widget.js" data-faqbot-api="https://HOST" data-locale="en-US" defer></script>
 *
 * Plain JavaScript, no build step. Everything lives in an open Shadow DOM styled by the linked
 * widget.css (no inline styles or scripts, so a strict CSP works). Safety: user text and server
 * text are inserted as text nodes; the server's `html` (already escaped by faqbot) is parsed
 * inertly with DOMParser and rebuilt element by element through a small allowlist (p, ul, ol,
 * li, a[href^="https://"]). Nothing is ever assigned to innerHTML.
 */
(() => {
  "use strict";

  // Locale texts and numbers. The numbers must match knowledge/resources.yaml exactly (a test
  // compares them); they are here because the failure message must show them when the server
  // cannot be reached. Keep this block valid JSON between the two markers.
  const I18N = /* faqbot-i18n:begin */ {
    "texts": {
      "en": {
        "launcher": "Questions? Chat",
        "launcherMore": " about chronic pain and kratom",
        "title": "Chronic pain & kratom questions",
        "subtitle": "Automated answers from reviewed sources",
        "close": "Close chat",
        "newConversation": "New conversation",
        "newStarted": "New conversation started.",
        "noticeTitle": "Before you start",
        "notice": "This chat gives general health information only. It is not medical advice. In an emergency, call {emergency}.",
        "noticePrivacy": "Chats are stored for review by this site's moderators {retention} and should not contain personal details such as names, phone numbers or addresses.",
        "retentionDays": "for {days} days",
        "retentionDefault": "for the site's retention period",
        "noticeDismiss": "Got it",
        "message": "Message",
        "placeholder": "Ask about chronic pain or kratom",
        "hint": "Enter sends · Shift+Enter adds a line",
        "send": "Send",
        "you": "You said:",
        "bot": "faqbot replied:",
        "typing": "faqbot is replying…",
        "sources": "Sources",
        "lastReviewed": "Last reviewed {date}",
        "helpful": "Was this helpful?",
        "yes": "Yes",
        "no": "No",
        "thanks": "Thanks for your feedback.",
        "feedbackFailed": "Sorry, your feedback could not be sent.",
        "related": "Related questions",
        "redirectTitle": "Please ask a clinician or pharmacist",
        "emergencyTitle": "Get help now",
        "call": "Call {phone}",
        "text": "Text {text}",
        "website": "{name} website",
        "errorTitle": "Sorry, the chat isn't working right now.",
        "errorBody": "If this is about your health, don't wait: call {emergency} in an emergency, or {poisonName} at {poison} about a possible poisoning or overdose.",
        "retry": "Try again"
      }
    },
    "locales": {
      "en-US": {
        "texts": "en",
        "emergency": { "name": "Emergency services", "phone": "911", "tel": "tel:911" },
        "poison": { "name": "Poison Help", "phone": "1-800-222-1222", "tel": "tel:18002221222" }
      },
      "en-GB": {
        "texts": "en",
        "emergency": { "name": "Emergency services", "phone": "999", "tel": "tel:999" },
        "poison": { "name": "NHS 111", "phone": "111", "tel": "tel:111" }
      },
      "en-CA": {
        "texts": "en",
        "emergency": { "name": "Emergency services", "phone": "911", "tel": "tel:911" },
        "poison": { "name": "Poison centre line", "phone": "1-844-POISON-X", "tel": "tel:18447647669" }
      },
      "en-AU": {
        "texts": "en",
        "emergency": { "name": "Emergency services", "phone": "000", "tel": "tel:000" },
        "poison": { "name": "Poisons Information Centre", "phone": "13 11 26", "tel": "tel:131126" }
      }
    }
  } /* faqbot-i18n:end */;

  const ALLOWED = new Set(["P", "UL", "OL", "LI", "A", "STRONG", "EM", "BR"]);
  const MAX_ITEMS = 40;
  const script = document.currentScript || document.querySelector("script[src*='widget.js']");
  const uid = (() => { let n = 0; return (p) => `fb-${p}-${++n}`; })();

  /** The locale for a data-locale value: exact, else the same country (fr-CA -> en-CA), else en-US. */
  function pickLocale(code) {
    const locales = I18N.locales;
    const region = String(code || "").split("-")[1] || "";
    const key = Object.keys(locales).find((k) => k.toLowerCase() === String(code).toLowerCase())
      || Object.keys(locales).find((k) => region && k.endsWith(`-${region.toUpperCase()}`));
    const id = key || "en-US";
    return { id, ...locales[id], t: I18N.texts[locales[id].texts] };
  }

  /** Fill {name} placeholders. */
  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, (m, k) => (k in values ? String(values[k]) : m));
  }

  /** Make an element: attributes via setAttribute, children as nodes or text nodes. */
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v !== null && v !== undefined && v !== false) node.setAttribute(k, v === true ? "" : v);
    }
    for (const child of children.flat(Infinity)) {
      if (child !== null && child !== undefined) node.append(child); // strings become text nodes
    }
    return node;
  }

  /** Rebuild the server's escaped html through the allowlist, as nodes of this document. */
  function safeFragment(html) {
    const parsed = new DOMParser().parseFromString(String(html || ""), "text/html");
    const frag = document.createDocumentFragment();
    for (const node of parsed.body.childNodes) frag.append(copyNode(node));
    return frag;
  }

  function copyNode(node) {
    if (node.nodeType !== Node.ELEMENT_NODE) return document.createTextNode(node.nodeType === Node.TEXT_NODE ? node.data : "");
    if (!ALLOWED.has(node.tagName)) return document.createTextNode(node.textContent);
    const copy = document.createElement(node.tagName.toLowerCase());
    const href = node.tagName === "A" ? node.getAttribute("href") || "" : "";
    if (/^https:\/\//i.test(href)) {
      copy.setAttribute("href", href);
      copy.setAttribute("target", "_blank");
      copy.setAttribute("rel", "noopener noreferrer");
    }
    for (const child of node.childNodes) copy.append(copyNode(child));
    return copy;
  }

  /** Drop list items that repeat a suggestion (they are shown as buttons instead). */
  function dropListed(frag, questions) {
    for (const li of frag.querySelectorAll("li")) {
      if (questions.has(li.textContent.trim())) li.remove();
    }
    for (const list of frag.querySelectorAll("ul, ol")) if (!list.children.length) list.remove();
    return frag;
  }

  /** An Error for a failed response, carrying the status and the server's message, if any. */
  async function httpError(res) {
    const err = new Error(`HTTP ${res.status}`);
    err.status = res.status;
    try {
      const body = await res.json();
      if (body && typeof body.message === "string") err.detail = body.message;
    } catch (e) { /* not JSON */ }
    return err;
  }

  function formatDate(iso, locale) {
    const date = new Date(`${iso}T00:00:00Z`);
    if (Number.isNaN(date.getTime())) return iso;
    return new Intl.DateTimeFormat(locale, { dateStyle: "long", timeZone: "UTC" }).format(date);
  }

  class Widget {
    constructor(opts) {
      this.api = opts.api;
      this.L = pickLocale(opts.locale);
      this.t = this.L.t;
      this.retentionDays = opts.retentionDays;
      this.key = `faqbot:${this.api}:${this.L.id}`;
      this.state = this.load();
      this.busy = false;
    }

    // ---------------------------------------------------------------- state (sessionStorage)
    load() {
      try {
        const saved = JSON.parse(sessionStorage.getItem(this.key) || "null");
        if (saved && Array.isArray(saved.items)) return saved;
      } catch (e) { /* storage blocked or corrupt: start afresh */ }
      return { session_id: null, items: [], noticeSeen: false };
    }

    save() {
      this.state.items = this.state.items.slice(-MAX_ITEMS);
      try { sessionStorage.setItem(this.key, JSON.stringify(this.state)); } catch (e) { /* private mode */ }
    }

    // ---------------------------------------------------------------- building the DOM
    mount(host, cssHref) {
      const root = host.attachShadow({ mode: "open" });
      const link = el("link", { rel: "stylesheet", href: cssHref });
      const show = () => root.append(this.build());
      link.addEventListener("load", show, { once: true });
      link.addEventListener("error", show, { once: true });
      root.append(link);
    }

    build() {
      const t = this.t;
      const title = uid("title");
      this.launcher = el("button", { type: "button", class: "fb-launcher", "aria-expanded": "false" },
        el("span", { class: "fb-icon", "aria-hidden": "true" }), t.launcher,
        el("span", { class: "fb-sr" }, t.launcherMore));
      this.closeBtn = el("button", { type: "button", class: "fb-icon-btn fb-close", "aria-label": t.close },
        el("span", { "aria-hidden": "true" }, "×"));
      this.newBtn = el("button", { type: "button", class: "fb-link-btn" }, t.newConversation);
      this.log = el("ol", { class: "fb-log" });
      this.status = el("p", { class: "fb-status", role: "status" });
      this.error = el("div", { class: "fb-error", role: "alert", hidden: true });
      this.scroller = el("div", { class: "fb-scroll" }, this.buildNotice(),
        el("div", { role: "log", "aria-live": "polite", "aria-relevant": "additions", "aria-label": t.title }, this.log),
        this.error);
      this.panel = el("section", { class: "fb-panel", role: "dialog", "aria-labelledby": title, hidden: true },
        el("div", { class: "fb-head" },
          el("div", { class: "fb-titles" }, el("h2", { id: title }, t.title), el("p", { class: "fb-sub" }, t.subtitle)),
          this.closeBtn),
        this.scroller, this.status, this.buildForm());
      this.panel.id = uid("panel");
      this.launcher.setAttribute("aria-controls", this.panel.id);
      this.wire();
      for (const item of this.state.items) this.log.append(this.renderItem(item));
      return el("div", { class: "fb-root" }, this.launcher, this.panel);
    }

    buildNotice() {
      const t = this.t;
      const days = Number.parseInt(this.retentionDays, 10);
      const retention = days > 0 ? fill(t.retentionDays, { days }) : t.retentionDefault;
      const dismiss = el("button", { type: "button", class: "fb-link-btn" }, t.noticeDismiss);
      this.notice = el("div", { class: "fb-notice", role: "note", hidden: this.state.noticeSeen },
        el("p", {}, el("strong", {}, `${t.noticeTitle}: `), fill(t.notice, { emergency: this.L.emergency.phone })),
        el("p", {}, fill(t.noticePrivacy, { retention })), dismiss);
      dismiss.addEventListener("click", () => {
        this.notice.hidden = true;
        this.state.noticeSeen = true;
        this.save();
        this.input.focus();
      });
      return this.notice;
    }

    buildForm() {
      const t = this.t;
      const id = uid("input");
      const hint = uid("hint");
      this.input = el("textarea", { id, rows: "2", maxlength: "2000", placeholder: t.placeholder, "aria-describedby": hint });
      this.sendBtn = el("button", { type: "submit", class: "fb-send" }, t.send);
      this.form = el("form", { class: "fb-form" },
        el("label", { for: id, class: "fb-sr" }, t.message), this.input, this.sendBtn,
        el("div", { class: "fb-foot" }, el("p", { id: hint, class: "fb-hint" }, t.hint), this.newBtn));
      return this.form;
    }

    wire() {
      this.launcher.addEventListener("click", () => this.open());
      this.closeBtn.addEventListener("click", () => this.close());
      this.newBtn.addEventListener("click", () => this.reset());
      this.panel.addEventListener("keydown", (e) => {
        if (e.key === "Escape") { e.preventDefault(); this.close(); }
      });
      this.input.addEventListener("keydown", (e) => {
        if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); this.form.requestSubmit(); }
      });
      this.form.addEventListener("submit", (e) => { e.preventDefault(); this.send(this.input.value); });
    }

    // ---------------------------------------------------------------- open / close / reset
    open() {
      this.panel.hidden = false;
      this.launcher.hidden = true;
      this.launcher.setAttribute("aria-expanded", "true");
      this.scrollToEnd();
      this.input.focus();
    }

    close() {
      this.panel.hidden = true;
      this.launcher.hidden = false;
      this.launcher.setAttribute("aria-expanded", "false");
      this.launcher.focus();
    }

    reset() {
      this.state = { session_id: null, items: [], noticeSeen: this.state.noticeSeen };
      try { sessionStorage.removeItem(this.key); } catch (e) { /* ignore */ }
      this.log.replaceChildren();
      this.hideError();
      this.status.textContent = this.t.newStarted;
      this.input.focus();
    }

    // ---------------------------------------------------------------- talking to the API
    async post(path, body) {
      const ctrl = new AbortController();
      const timer = setTimeout(() => ctrl.abort(), 30000);
      try {
        const res = await fetch(`${this.api}${path}`, {
          method: "POST", headers: { "Content-Type": "application/json" }, credentials: "omit",
          body: JSON.stringify(body), signal: ctrl.signal,
        });
        if (!res.ok) throw await httpError(res);
        return res.status === 204 ? {} : await res.json();
      } finally {
        clearTimeout(timer);
      }
    }

    async send(raw) {
      const text = String(raw || "").trim();
      if (!text || this.busy) return;
      this.busy = true;
      this.hideError();
      const bubble = this.renderItem({ who: "user", text });
      this.log.append(bubble);
      if (this.input.value.trim() === text) this.input.value = ""; // a suggestion keeps a draft
      this.status.textContent = this.t.typing;
      this.scrollToEnd();
      try {
        const reply = await this.post("/api/chat", { message: text, session_id: this.state.session_id, locale: this.L.id });
        this.state.session_id = reply.session_id || this.state.session_id;
        const item = { who: "bot", reply };
        this.addItem({ who: "user", text }, null);
        this.addItem(item, this.renderItem(item));
        this.scrollTo(bubble); // the question and the start of its reply
      } catch (err) {
        bubble.remove();
        if (!this.input.value) this.input.value = text; // retry never loses the typed message
        this.showError(err);
      } finally {
        this.busy = false;
        this.status.textContent = "";
      }
    }

    addItem(item, node) {
      this.state.items.push(item);
      this.save();
      if (!node) return;
      this.log.append(node);
    }

    async feedback(item, helpful, group) {
      const buttons = group.querySelectorAll("button");
      for (const b of buttons) b.disabled = true;
      const note = group.querySelector(".fb-feedback-note");
      try {
        await this.post("/api/feedback", { session_id: item.reply.session_id, turn_id: item.reply.turn_id, helpful });
        item.feedback = helpful;
        this.save();
        note.textContent = this.t.thanks;
      } catch (err) {
        for (const b of buttons) b.disabled = false;
        note.textContent = this.t.feedbackFailed;
      }
    }

    showError(err) {
      const t = this.t;
      const detail = err && err.status >= 400 && err.status < 500 && err.detail ? el("p", {}, err.detail) : null;
      const { emergency, poison } = this.L;
      const retry = el("button", { type: "button", class: "fb-retry" }, t.retry);
      retry.addEventListener("click", () => { this.input.focus(); this.send(this.input.value); });
      this.error.replaceChildren(
        el("p", {}, el("strong", {}, t.errorTitle)), detail,
        el("p", {}, fill(t.errorBody, { emergency: emergency.phone, poison: poison.phone, poisonName: poison.name })),
        this.callLinks([emergency, poison], true), retry);
      this.error.hidden = false;
      this.scrollTo(this.error);
    }

    hideError() {
      this.error.hidden = true;
      this.error.replaceChildren();
    }

    scrollToEnd() { this.scroller.scrollTop = this.scroller.scrollHeight; }

    scrollTo(node) { this.scroller.scrollTop = Math.max(0, node.offsetTop - 8); }

    // ---------------------------------------------------------------- rendering replies
    renderItem(item) {
      if (item.who === "user") {
        return el("li", { class: "fb-msg fb-user" }, el("span", { class: "fb-sr" }, this.t.you), el("p", {}, item.text));
      }
      const reply = item.reply || {};
      const kind = String(reply.kind || "fallback").replace(/[^a-z_]/g, "");
      const render = { answer: this.renderAnswer, redirect: this.renderRedirect, emergency: this.renderEmergency }[kind];
      const body = render ? render.call(this, reply, item) : this.renderPlain(reply);
      const label = kind === "emergency" ? null : el("span", { class: "fb-sr" }, this.t.bot); // numbers first
      return el("li", { class: `fb-msg fb-bot fb-kind-${kind}` }, label, body);
    }

    body(reply) {
      const questions = new Set((reply.suggestions || []).map((s) => s.question));
      return el("div", { class: "fb-text" }, dropListed(safeFragment(reply.html), questions));
    }

    renderPlain(reply) {
      return [this.body(reply), this.suggestions(reply.suggestions, null), this.resources(reply.resources)];
    }

    renderAnswer(reply, item) {
      const t = this.t;
      const sources = (reply.sources || []).map((s) => el("li", {},
        el("a", { href: /^https:\/\//i.test(s.url) ? s.url : null, target: "_blank", rel: "noopener noreferrer" }, `${s.publisher}: ${s.title}`)));
      const reviewed = reply.reviewed_on
        ? el("p", { class: "fb-reviewed" }, ...this.around(t.lastReviewed, "{date}",
          el("time", { datetime: reply.reviewed_on }, formatDate(reply.reviewed_on, this.L.id))))
        : null;
      return [
        this.body(reply),
        sources.length ? el("div", { class: "fb-sources" }, el("h3", {}, t.sources), el("ul", {}, sources)) : null,
        reviewed,
        this.suggestions(reply.suggestions, t.related),
        this.feedbackGroup(item),
      ];
    }

    /** A text with one placeholder replaced by a node: [before, node, after]. */
    around(template, mark, node) {
      const at = template.indexOf(mark);
      return at < 0 ? [template, " ", node] : [template.slice(0, at), node, template.slice(at + mark.length)];
    }

    feedbackGroup(item) {
      const t = this.t;
      const label = uid("helpful");
      const group = el("div", { class: "fb-feedback", role: "group", "aria-labelledby": label },
        el("span", { id: label }, t.helpful));
      const yes = el("button", { type: "button" }, t.yes);
      const no = el("button", { type: "button" }, t.no);
      group.append(yes, no, el("span", { class: "fb-feedback-note", role: "status" }));
      if (item.feedback !== undefined) {
        yes.disabled = no.disabled = true;
        group.lastChild.textContent = t.thanks;
      }
      yes.addEventListener("click", () => this.feedback(item, true, group));
      no.addEventListener("click", () => this.feedback(item, false, group));
      return group;
    }

    renderRedirect(reply) {
      const heading = uid("redirect");
      return el("div", { class: "fb-redirect", role: "region", "aria-labelledby": heading },
        el("h3", { id: heading }, this.t.redirectTitle),
        this.body(reply), this.resources(reply.resources), this.suggestions(reply.suggestions, this.t.related));
    }

    renderEmergency(reply) {
      const { emergency, poison } = this.L;
      const given = (reply.resources || []).filter((r) => r.tel);
      const first = [emergency, poison].map((mine) => given.find((r) => r.tel === mine.tel) || mine);
      const rest = given.filter((r) => !first.some((f) => f.tel === r.tel));
      return el("div", { class: "fb-emergency", role: "alert" },
        this.callLinks([...first, ...rest], true),
        el("h3", { class: "fb-sr" }, this.t.emergencyTitle),
        this.body(reply), this.suggestions(reply.suggestions, null));
    }

    callLinks(resources, large) {
      const items = resources.filter((r) => r && r.tel && /^tel:\+?[0-9]+$/.test(r.tel)).map((r) => el("li", {},
        el("a", { href: r.tel, class: large ? "fb-call fb-call-large" : "fb-call" },
          el("span", { class: "fb-call-number" }, fill(this.t.call, { phone: r.phone })),
          el("span", { class: "fb-call-name" }, r.name))));
      return el("ul", { class: "fb-calls" }, items);
    }

    resources(list) {
      if (!list || !list.length) return null;
      const extra = list.flatMap((r) => [
        r.text ? el("li", {}, el("a", { href: `sms:${String(r.text).replace(/[^0-9]/g, "")}` }, `${fill(this.t.text, { text: r.text })} (${r.name})`)) : null,
        r.url && /^https:\/\//i.test(r.url) ? el("li", {}, el("a", { href: r.url, target: "_blank", rel: "noopener noreferrer" }, fill(this.t.website, { name: r.name }))) : null,
      ]).filter(Boolean);
      return [this.callLinks(list, false), extra.length ? el("ul", { class: "fb-more" }, extra) : null];
    }

    suggestions(list, heading) {
      if (!list || !list.length) return null;
      const buttons = list.map((s) => {
        const b = el("button", { type: "button", class: "fb-suggestion" }, s.question);
        b.addEventListener("click", () => this.send(s.question));
        return el("li", {}, b);
      });
      return el("div", { class: "fb-suggestions" }, heading ? el("h3", {}, heading) : null, el("ul", {}, buttons));
    }
  }

  function start() {
    if (document.getElementById("faqbot-widget")) return; // embedded twice: keep the first
    const api = ((script && script.dataset.faqbotApi) || "").replace(/\/+$/, "");
    const origin = script && script.src ? new URL(script.src, document.baseURI).origin : location.origin;
    const cssHref = script && script.src ? new URL("widget.css", script.src).href : `${origin}/widget.css`;
    const host = el("div", { id: "faqbot-widget" });
    document.body.append(host);
    const widget = new Widget({ api: api || origin, locale: script && script.dataset.locale, retentionDays: script && script.dataset.retentionDays });
    widget.mount(host, cssHref);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start, { once: true });
  else start();
})();
