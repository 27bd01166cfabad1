// The agent desk (console/templates/desk.html): phone and agent state, ready / pause, the wrap-up timer, the case
// popping on the ScreenPop event of the agent's WebSocket, and the wrap-up forms (disposition, promise with its
// read-back, plan, callback, note), and the preview panel (the offered case, Dial, Skip). Words come from the
// page's data-t-* attributes; data goes in as text only.
"use strict";

(function () {
  var root = document.getElementById("desk");
  if (!root) { return; }
  var agent = root.dataset.agent;
  var wrapSeconds = Number(root.dataset.wrapS) || 0;
  var attemptId = null, debtorLanguage = document.body.dataset.lang || "en", wrapTimer = null;
  var $ = function (id) { return document.getElementById(id); };
  var capital = function (word) { return word.charAt(0).toUpperCase() + word.slice(1); };
  var words = function (key) { return root.dataset["t" + capital(key)] || key; };  // data-t-leg-idle: words("legIdle")
  var stateWord = function (state) { return root.dataset["tState" + capital(state)] || state; };
  var put = window.dunline.text;
  var SHOWN = "dunline.desk.attempt";

  function element(tag, text, className) {
    var made = document.createElement(tag);
    put(made, text);
    if (className) { made.className = className; }
    return made;
  }

  function row(cells) {
    var tr = document.createElement("tr");
    cells.forEach(function (cell) { tr.appendChild(element("td", cell)); });
    return tr;
  }

  function fill(id, items, make) {
    var list = $(id);
    while (list.firstChild) { list.removeChild(list.firstChild); }
    items.forEach(function (item) { list.appendChild(make(item)); });
    if (!items.length && list.tagName !== "TBODY") { list.appendChild(element("li", words("none"), "muted")); }
  }

  function when(iso) {  // "2026-12-02T16:35:43.99+00:00" -> "2026-12-02 16:35 UTC"
    return iso ? iso.slice(0, 16).replace("T", " ") + " UTC" : "";
  }

  function said(bilingual) {
    return bilingual[debtorLanguage] || bilingual.en;
  }

  function tell(text, failed) {
    put($("message"), text);
    $("message").className = failed ? "error" : "notice";
  }

  function failure(error) {
    var body = error.body || {}, details = body.details || {};
    var where = details.field || details.parameter;
    tell(words("failed") + (where ? where + ": " : "") + (body.message || error.message), true);
  }

  // State ------------------------------------------------------------------------------------------------------
  function reasonWord(reason) {  // our reason codes by their label; another's (a supervisor's) as it came
    var known = Array.prototype.find.call($("pause-reason").options, function (o) { return o.value === reason; });
    return known ? known.textContent : reason;
  }

  function dispositionWord(code) {  // by the label of its button; a code the desk does not offer as it came
    var button = code ? document.querySelector('#dispositions button[data-code="' + CSS.escape(code) + '"]') : null;
    return button ? button.textContent : code || "";
  }

  function showState(state, reason) {
    put($("agent-state"), stateWord(state));
    $("agent-state").dataset.state = state;
    put($("agent-reason"), state === "paused" && reason ? "(" + reasonWord(reason) + ")" : "");
    if (state === "wrap_up") { startWrap(); } else { stopWrap(); }
  }

  function showDesk(desk) {
    showState(desk.state, desk.reason);
    var leg = desk.leg || (desk.phone_up ? "idle" : "down");  // the WebSocket's DeskState says only phone_up
    put($("leg-state"), words("leg" + capital(leg)));
    $("leg-state").dataset.leg = leg;
    if (desk.registered !== undefined) {
      put($("phone-state"), desk.registered ? words("registered") : words("unregistered"));
      $("phone-state").dataset.registered = String(Boolean(desk.registered));
    }
  }

  function refresh() {
    window.dunline.api("GET", "/api/desk/me").then(showDesk).catch(function () { /* shown again next round */ });
  }

  function startWrap() {
    if (wrapTimer !== null) { return; }
    var left = wrapSeconds;
    $("wrap").hidden = false;
    put($("wrap-timer"), left + words("seconds"));
    wrapTimer = window.setInterval(function () {
      left = Math.max(0, left - 1);
      put($("wrap-timer"), left + words("seconds"));
    }, 1000);
  }

  function stopWrap() {
    if (wrapTimer !== null) { window.clearInterval(wrapTimer); wrapTimer = null; }
    $("wrap").hidden = true;
  }

  function setState(body) {
    window.dunline.api("POST", "/api/agents/" + encodeURIComponent(agent) + "/state", body)
      .then(function (desk) { showDesk(desk); refresh(); }).catch(failure);
  }

  $("go-ready").addEventListener("click", function () { setState({state: "ready"}); });
  $("go-pause").addEventListener("click", function () { setState({state: "paused", reason: $("pause-reason").value}); });

  // The case -----------------------------------------------------------------------------------------------------
  function showCase(pop) {
    if (pop.attempt.id !== attemptId) { $("read-back").hidden = true; }  // a new call: the last read-back goes
    attemptId = pop.attempt.id;
    debtorLanguage = pop.debtor.language;
    var debtor = pop.debtor;
    put($("debtor-name"), debtor.full_name);
    put($("attempt-label"), "#" + pop.attempt.id);
    put($("debtor-birth"), debtor.birth_date);
    put($("debtor-id"), debtor.national_id);
    put($("debtor-language"), debtor.language);
    put($("debtor-region"), [debtor.region, debtor.city].filter(Boolean).join(" "));
    put($("attempt-number"), pop.attempt.number);
    fill("must-say", pop.must_say, function (item) { return element("li", said(item.text)); });
    put($("script-title"), said(pop.script.title));
    fill("script-lines", pop.script.lines, function (line) { return element("li", said(line)); });
    fill("accounts", pop.accounts, function (a) {
      var tr = row([a.creditor, a.account_ref, a.currency + " " + a.balance, a.currency + " " + a.overdue_amount,
                    a.days_past_due, a.status]);
      if (a.called) { tr.className = "called"; }
      return tr;
    });
    fill("holds", pop.holds, function (h) {
      return element("li", h.kind + (h.number ? " " + h.number : "") + (h.note ? " — " + h.note : ""), "bad");
    });
    fill("attempts", pop.attempts, function (a) {
      return row([when(a.started_at), a.outcome, dispositionWord(a.disposition), a.agent || ""]);
    });
    fill("promises", pop.promises.map(function (p) { return [when(p.created_at), p.amount, p.promised_for, p.status]; })
      .concat(pop.plans.map(function (p) { return [when(p.created_at), p.total_amount, "×" + p.installments, p.status]; })),
      row);
    fill("notes", pop.notes, function (n) { return element("li", when(n.created_at) + " " + (n.author || "") + ": " + n.body); });
    $("waiting").hidden = true;
    $("case").hidden = false;
  }

  // The case of the last call stays on screen across a reload or a change of language (this tab only).
  function pop(id) {
    window.sessionStorage.setItem(SHOWN, String(id));
    window.dunline.api("GET", "/api/desk/case/" + encodeURIComponent(id)).then(showCase).catch(failure);
  }

  function record(what, body, then) {
    if (attemptId === null) { return; }
    window.dunline.api("POST", "/api/desk/attempts/" + attemptId + "/" + what, body).then(function (answer) {
      tell(words("saved"), false);
      if (then) { then(answer); }
    }).catch(failure);
  }

  Array.prototype.forEach.call(document.querySelectorAll("#dispositions button"), function (button) {
    button.addEventListener("click", function () {
      record("disposition", {code: button.dataset.code}, function () { pop(attemptId); });
    });
  });

  function form(id, body, then) {
    var shown = $(id);
    shown.addEventListener("submit", function (event) {
      event.preventDefault();
      record(id.replace("-form", ""), body(shown.elements), function (answer) {
        if (then) { then(answer); }
        pop(attemptId);
      });
    });
  }

  form("promise-form", function (f) { return {amount: f.amount.value.trim(), promised_for: f.promised_for.value}; },
    function (answer) {
      put($("read-back"), said(answer.read_back));
      $("read-back").hidden = false;
    });
  form("plan-form", function (f) { return {installments: Number(f.installments.value)}; });
  form("callback-form", function (f) { return {at: new Date(f.at.value).toISOString()}; });
  form("note-form", function (f) { return {text: f.text.value}; }, function () { $("note-form").reset(); });

  // Preview dialling: the offered case, then Dial or Skip (shown only where a preview campaign serves this agent).
  var panel = $("preview"), offered = null;
  var previewWord = function (key) { return panel.dataset["t" + capital(key)] || key; };

  function showOffer(answer) {
    panel.hidden = false;
    offered = answer.preview ? answer.preview.account_id : null;
    $("preview-case").hidden = offered === null;
    $("preview-empty").hidden = offered !== null;
    put($("preview-empty"), previewWord("empty"));
    if (offered === null) { return; }
    var called = answer.accounts.filter(function (a) { return a.called; })[0] || answer.accounts[0];
    var decision = answer.preview.decision;
    put($("preview-name"), answer.debtor.full_name);
    put($("preview-number"), answer.preview.number);
    put($("preview-account"), called.creditor + " " + called.account_ref + " — " + called.currency + " " + called.balance);
    put($("preview-overdue"), called.currency + " " + called.overdue_amount + " / " + called.days_past_due);
    put($("preview-decision"), decision.allowed ? previewWord("allowed") : previewWord("refused") + decision.reasons.join("; "));
    $("preview-decision").className = decision.allowed ? "" : "bad";
    $("preview-dial").disabled = !decision.allowed;
  }

  function nextOffer() {
    window.dunline.api("GET", "/api/desk/preview/next").then(showOffer).catch(function (error) {
      if (error.status === 404 || error.status === 503) { panel.hidden = true; } else { failure(error); }
    });
  }

  $("preview-next").addEventListener("click", nextOffer);
  $("preview-dial").addEventListener("click", function () {
    if (offered === null) { return; }
    window.dunline.api("POST", "/api/desk/preview/" + offered + "/dial", {}).then(function () {
      tell(previewWord("dialled"), false);
      $("preview-case").hidden = true;
      offered = null;
    }).catch(function (error) { failure(error); nextOffer(); });
  });
  $("preview-skip").addEventListener("click", function () {
    if (offered === null) { return; }
    window.dunline.api("POST", "/api/desk/preview/" + offered + "/skip", {reason: $("preview-reason").value})
      .then(function () { tell(previewWord("skipped"), false); nextOffer(); }).catch(failure);
  });

  // Events -------------------------------------------------------------------------------------------------------
  window.dunline.socket("/api/agents/" + encodeURIComponent(agent) + "/events", function (event) {
    if (event.type === "DeskState") {
      showDesk(event);
    } else if (event.type === "AgentStateChanged") {
      showState(event["new"], event.reason);
    } else if (event.type === "ScreenPop") {
      pop(event.context.attempt_id);
    }
  });
  if (window.sessionStorage.getItem(SHOWN)) { pop(window.sessionStorage.getItem(SHOWN)); }
  refresh();
  nextOffer();
  window.setInterval(refresh, 5000);
})();
