/* Fanline chat widget. No framework; everything lives in a shadow root, so the host
 * page's styles never touch it and its styles never leak out.
 *
 *   <script src="https://HUB/widget.js" data-site="site_…"></script>
 *   or  Fanline.mount(element, { site: "site_…", hub: "https://HUB", invite: "…" })
 *
 * A message is kept in localStorage with its Idempotency-Key until the hub answers, so
 * a retry (a failed network, a closed tab) sends the same key and never a duplicate.
 * The conversation's event stream brings the creator's answer live; after a reload the
 * conversation is read back from the hub. */
(function () {
  "use strict";
  var CSS = [
    ":host{all:initial;font:15px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;color:#1d1d1f}",
    ".box{display:flex;flex-direction:column;width:100%;height:100%;min-height:420px;border:1px solid #d9d9de;border-radius:14px;background:#fff;overflow:hidden}",
    "header{padding:12px 16px;background:#2f3a8f;color:#fff;font-weight:600}",
    ".log{flex:1;overflow-y:auto;padding:12px;display:flex;flex-direction:column;gap:8px;background:#f6f6f8}",
    ".msg{max-width:85%;padding:8px 12px;border-radius:12px;white-space:pre-wrap;word-wrap:break-word}",
    ".fan{align-self:flex-end;background:#2f3a8f;color:#fff}",
    ".agent{align-self:flex-start;background:#fff;border:1px solid #e3e3e8}",
    ".creator{align-self:flex-start;background:#fff6dd;border:1px solid #f0d98a}",
    ".meta{font-size:12px;color:#6b6b75;margin-top:4px}",
    ".pending{opacity:.6}",
    ".offer{display:flex;gap:8px;margin-top:8px}",
    "button{font:inherit;border:0;border-radius:8px;padding:6px 12px;cursor:pointer}",
    ".yes{background:#2f3a8f;color:#fff}.no{background:#e7e7ec;color:#1d1d1f}",
    "form{display:flex;gap:8px;padding:10px;border-top:1px solid #e3e3e8;background:#fff}",
    "textarea{flex:1;font:inherit;resize:none;border:1px solid #d9d9de;border-radius:8px;padding:8px;height:42px}",
    ".status{font-size:12px;color:#6b6b75;padding:0 12px 6px;background:#fff;min-height:16px}"
  ].join("");

  function uuid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return "k-" + Date.now().toString(36) + "-" + Math.random().toString(36).slice(2);
  }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = text;
    return e;
  }
  function when(t) {
    try { return new Date(t).toLocaleString([], { dateStyle: "medium", timeStyle: "short" }); } catch (e) { return t; }
  }
  function sleep(ms) { return new Promise(function (r) { setTimeout(r, ms); }); }

  function Chat(root, opts) {
    this.hub = (opts.hub || "").replace(/\/$/, "");
    this.site = opts.site;
    this.invite = opts.invite || null;
    this.key = "fanline:" + this.site;
    this.state = this.load();
    this.shown = {};
    this.offers = {};
    this.awaiting = {}; // fan messages whose request has not answered yet
    this.early = {};    // their replies, come first by the stream
    this.root = root.attachShadow ? root.attachShadow({ mode: "open" }) : root;
    this.build(opts.title);
  }

  Chat.prototype.load = function () {
    try { return JSON.parse(localStorage.getItem(this.key)) || {}; } catch (e) { return {}; }
  };
  Chat.prototype.save = function () {
    try { localStorage.setItem(this.key, JSON.stringify(this.state)); } catch (e) { /* private mode */ }
  };

  Chat.prototype.build = function (title) {
    var style = el("style"); style.textContent = CSS;
    var box = el("div", "box");
    this.header = el("header", null, title || "Ask");
    this.log = el("div", "log"); this.log.setAttribute("part", "log");
    this.status = el("div", "status");
    var form = el("form");
    this.input = el("textarea"); this.input.placeholder = "Write your question…"; this.input.setAttribute("aria-label", "Your message");
    this.send = el("button", "yes", "Send"); this.send.type = "submit";
    form.appendChild(this.input); form.appendChild(this.send);
    box.appendChild(this.header); box.appendChild(this.log); box.appendChild(this.status); box.appendChild(form);
    this.root.appendChild(style); this.root.appendChild(box);
    var self = this;
    form.addEventListener("submit", function (ev) { ev.preventDefault(); self.submit(); });
    this.input.addEventListener("keydown", function (ev) {
      if (ev.key === "Enter" && !ev.shiftKey) { ev.preventDefault(); self.submit(); }
    });
  };

  Chat.prototype.api = function (method, path, body, headers) {
    var h = Object.assign({ "Content-Type": "application/json" }, headers || {});
    if (this.state.token) h.Authorization = "Bearer " + this.state.token;
    return fetch(this.hub + path, { method: method, headers: h, body: body ? JSON.stringify(body) : undefined })
      .then(function (r) {
        return r.text().then(function (t) {
          var data = null; try { data = t ? JSON.parse(t) : null; } catch (e) { /* not JSON */ }
          if (!r.ok) { var err = new Error((data && data.error && data.error.message) || ("HTTP " + r.status)); err.status = r.status; err.body = data; throw err; }
          return data;
        });
      });
  };

  Chat.prototype.start = function () {
    var self = this;
    var sessionFor = function () {
      var body = { site_key: self.site };
      if (self.invite) body.identity = { invite: self.invite };
      return self.api("POST", "/v1/sessions", body).then(function (s) {
        self.state = { token: s.fan_token, conversation: s.conversation_id, creator: s.creator, fan: s.fan.handle, pending: self.state.pending || [] };
        self.save();
      });
    };
    var ready = (this.state.token && !this.invite) ? Promise.resolve() : sessionFor();
    return ready
      .then(function () { return self.history(); })
      .catch(function (e) {
        if (e.status === 401) { self.state = { pending: self.state.pending || [] }; return sessionFor().then(function () { return self.history(); }); }
        throw e;
      })
      .then(function () {
        self.header.textContent = "Ask " + (self.state.creator || "");
        self.stream();
        return self.flush();
      })
      .catch(function (e) { self.say("Could not connect: " + e.message); });
  };

  Chat.prototype.history = function () {
    var self = this;
    return this.api("GET", "/v1/conversations/" + this.state.conversation + "/messages?after=0&limit=500").then(function (page) {
      page.messages.forEach(function (m) { self.show(m); });
      self.last = page.next_after;
    });
  };

  Chat.prototype.say = function (text) { this.status.textContent = text || ""; };

  /* One message of the conversation, once. The stream may bring a message before the
   * request that wrote it has answered: the fan's own message is the bubble already
   * shown, and the reply waits for its decision (which shows it with its sources). */
  Chat.prototype.show = function (m) {
    if (this.shown[m.id]) return;
    if (m.role === "fan") {
      var bubbles = this.log.querySelectorAll(".msg.fan:not([data-id])");
      for (var i = 0; i < bubbles.length; i++) {
        if (bubbles[i].textContent === m.body) {
          bubbles[i].dataset.id = m.id; this.shown[m.id] = true;
          if (bubbles[i].classList.contains("pending")) this.awaiting[m.id] = true;
          return;
        }
      }
    }
    if (m.reply_to && this.awaiting[m.reply_to]) { this.early[m.reply_to] = m; return; }
    this.shown[m.id] = true;
    var cls = m.role === "fan" ? "fan" : (m.role === "creator" ? "creator" : "agent");
    var div = el("div", "msg " + cls, m.body);
    div.dataset.id = m.id;
    if (m.kind) div.dataset.kind = m.kind;
    if (m.role === "creator") div.appendChild(el("div", "meta", "— " + (this.state.creator || "the creator") + ", " + when(m.created_at)));
    if (m.kind === "escalation.offered" && m.escalation_id) { this.offers[m.escalation_id] = { div: div, open: true }; this.offerButtons(m.escalation_id, div); }
    if (m.escalation_id && m.kind !== "escalation.offered" && this.offers[m.escalation_id]) this.close(m.escalation_id);
    this.log.appendChild(div);
    this.log.scrollTop = this.log.scrollHeight;
    return div;
  };

  Chat.prototype.close = function (id) {
    var o = this.offers[id]; if (!o) return;
    o.open = false;
    var b = o.div.querySelector(".offer"); if (b) b.remove();
  };

  Chat.prototype.offerButtons = function (id, div) {
    if (div.querySelector(".offer")) return;
    var self = this, row = el("div", "offer");
    var yes = el("button", "yes", "Send to " + (this.state.creator || "the creator"));
    var no = el("button", "no", "No thanks");
    yes.dataset.action = "accept"; no.dataset.action = "decline";
    yes.onclick = function () {
      yes.disabled = no.disabled = true;
      self.api("POST", "/v1/escalations/" + id + "/accept").then(function (r) {
        self.close(id);
        var by = r.expected_reply_by ? ", expected reply by " + when(r.expected_reply_by) : "";
        self.say("Sent to " + (self.state.creator || "the creator") + by + ".");
        div.appendChild(el("div", "meta sent", "Sent to " + (self.state.creator || "the creator") + by + "."));
      }).catch(function (e) {
        yes.disabled = no.disabled = false;
        var reset = e.body && e.body.error && e.body.error.resets_at;
        self.say(e.message + (reset ? " (again after " + when(reset) + ")" : ""));
      });
    };
    no.onclick = function () {
      yes.disabled = no.disabled = true;
      self.api("POST", "/v1/escalations/" + id + "/decline").then(function () { self.close(id); }).catch(function (e) { self.say(e.message); });
    };
    row.appendChild(yes); row.appendChild(no); div.appendChild(row);
  };

  Chat.prototype.submit = function () {
    var text = this.input.value.trim();
    if (!text) return;
    this.input.value = "";
    var item = { key: uuid(), text: text };
    this.state.pending = (this.state.pending || []).concat([item]);
    this.save();
    this.flush();
  };

  /* Send what waits, oldest first; a failure is retried with the same key. */
  Chat.prototype.flush = function () {
    var self = this;
    if (this.flushing || !this.state.token) return Promise.resolve();
    var item = (this.state.pending || [])[0];
    if (!item) return Promise.resolve();
    this.flushing = true;
    var bubble = this.log.querySelector('[data-key="' + item.key + '"]');
    if (!bubble) { bubble = el("div", "msg fan pending", item.text); bubble.dataset.key = item.key; this.log.appendChild(bubble); }
    var attempt = function (n) {
      return self.api("POST", "/v1/conversations/" + self.state.conversation + "/messages", { text: item.text }, { "Idempotency-Key": item.key })
        .then(function (posted) {
          bubble.classList.remove("pending");
          var mid = posted.decision.message_id;
          bubble.dataset.id = mid; self.shown[mid] = true;
          delete self.awaiting[mid]; delete self.early[mid];
          self.state.pending = self.state.pending.filter(function (p) { return p.key !== item.key; });
          self.save();
          self.decision(posted.decision);
          self.say("");
        })
        .catch(function (e) {
          var mid = Number(bubble.dataset.id);
          if (mid && self.early[mid]) { var m = self.early[mid]; delete self.early[mid]; delete self.awaiting[mid]; self.show(m); }
          if (e.status && e.status >= 400 && e.status < 500 && e.status !== 409 && e.status !== 429) {
            self.state.pending = self.state.pending.filter(function (p) { return p.key !== item.key; });
            self.save();
            bubble.classList.remove("pending");
            self.say(e.message);
            return;
          }
          self.say("Not sent yet — retrying…");
          return sleep(Math.min(8000, 500 * Math.pow(2, n))).then(function () { return attempt(n + 1); });
        });
    };
    return attempt(0).then(function () { self.flushing = false; return self.flush(); });
  };

  /* A decision, shown as the reply with its sources, attribution or offer. */
  Chat.prototype.decision = function (d) {
    var reply = this.log.querySelector('[data-decision="' + d.decision_id + '"]');
    if (reply) return;
    if (d.reply_message_id) {
      if (this.shown[d.reply_message_id]) return;
      this.shown[d.reply_message_id] = true;
    }
    var div = el("div", "msg agent", d.reply);
    div.dataset.decision = d.decision_id;
    if (d.reply_message_id) div.dataset.id = d.reply_message_id;
    div.dataset.path = d.path;
    if (d.sources && d.sources.length && d.reply.indexOf("Sources:") < 0) {
      div.appendChild(el("div", "meta sources", "Sources: " + d.sources.map(function (s) { return "[" + s.n + "] " + s.title; }).join(", ")));
    }
    if (d.answer) div.appendChild(el("div", "meta answer", "— " + d.answer.by + "'s answer"));
    this.log.appendChild(div);
    if (d.offer && d.offer.status === "pending") {
      this.offers[d.offer.escalation_id] = { div: div, open: true };
      this.offerButtons(d.offer.escalation_id, div);
    }
    this.log.scrollTop = this.log.scrollHeight;
  };

  /* The conversation's events (fetch, not EventSource: the token goes in a header),
   * resumed after the last one seen; reconnects with backoff. */
  Chat.prototype.stream = function () {
    var self = this, failures = 0;
    var loop = function () {
      var headers = { Authorization: "Bearer " + self.state.token, Accept: "text/event-stream" };
      if (self.last) headers["Last-Event-ID"] = String(self.last);
      return fetch(self.hub + "/v1/conversations/" + self.state.conversation + "/events", { headers: headers })
        .then(function (r) {
          if (!r.ok || !r.body) throw new Error("HTTP " + r.status);
          failures = 0;
          var reader = r.body.getReader(), dec = new TextDecoder(), buf = "";
          var pump = function () {
            return reader.read().then(function (chunk) {
              if (chunk.done) return;
              buf += dec.decode(chunk.value, { stream: true });
              var parts = buf.split("\n\n"); buf = parts.pop();
              parts.forEach(function (block) { self.event(block); });
              return pump();
            });
          };
          return pump();
        })
        .catch(function () { failures += 1; })
        .then(function () { return sleep(Math.min(15000, 1000 * Math.pow(2, failures))); })
        .then(loop);
    };
    loop();
  };

  Chat.prototype.event = function (block) {
    var id = null, data = "";
    block.split("\n").forEach(function (line) {
      if (line.indexOf("id:") === 0) id = line.slice(3).trim();
      else if (line.indexOf("data:") === 0) data += line.slice(5).trim();
    });
    if (!data) return;
    var m; try { m = JSON.parse(data); } catch (e) { return; }
    if (id) this.last = Number(id);
    this.show(m);
    if (m.kind === "escalation.answered") this.say((this.state.creator || "The creator") + " answered.");
  };

  var Fanline = {
    mount: function (element, opts) {
      var chat = new Chat(element, opts);
      chat.start();
      return chat;
    }
  };
  window.Fanline = Fanline;

  var script = document.currentScript;
  if (script && script.dataset && script.dataset.site) {
    var host = document.createElement("div");
    host.style.cssText = "position:fixed;right:20px;bottom:20px;width:360px;height:520px;z-index:2147483000";
    document.addEventListener("DOMContentLoaded", function () { document.body.appendChild(host); });
    if (document.body) document.body.appendChild(host);
    var hub = script.src.replace(/\/widget\.js.*$/, "");
    Fanline.mount(host, { site: script.dataset.site, hub: hub, invite: script.dataset.invite });
  }
})();
