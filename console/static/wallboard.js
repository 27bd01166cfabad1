// The live wallboard (/wallboard): every snapshot the wallboard socket pushes (console/wallboard.py) is drawn
// in full: the floor's tiles, a row per campaign, a row per agent. Supervisors get force-pause and log-out
// buttons per agent (POST /api/agents/{name}/force). Time in state runs on between snapshots.
"use strict";

(function () {
  var root, t, canForce, agentSince = {}, reasons = {};

  function text(element, value) { window.dunline.text(element, value); }

  // The label of a state or status ("on_call" -> the template's data-t-state-on-call), or the value itself.
  function label(prefix, value) {
    return t[prefix + value.replace(/(^|_)(\w)/g, function (whole, sep, letter) { return letter.toUpperCase(); })]
      || value;
  }

  function percent(rate) { return (100 * rate).toFixed(1) + "%"; }

  function duration(seconds) {
    seconds = Math.max(0, Math.round(seconds));
    if (seconds < 60) { return seconds + " " + t.seconds; }
    if (seconds < 3600) { return Math.floor(seconds / 60) + " " + t.minutes + " " + (seconds % 60) + " " + t.seconds; }
    return Math.floor(seconds / 3600) + " " + t.hours + " " + Math.floor((seconds % 3600) / 60) + " " + t.minutes;
  }

  function ledger(window_) { return percent(window_.rate) + " (" + window_.abandoned + "/" + window_.answered + ")"; }

  function agentsLine(counts) {
    return ["ready", "on_call", "wrap_up", "paused"].filter(function (state) { return counts[state]; })
      .map(function (state) { return label("state", state) + " " + counts[state]; }).join(" · ") || "0";
  }

  function cell(row, value, className) {
    var td = document.createElement("td");
    if (className) { td.className = className; }
    text(td, value);
    row.appendChild(td);
    return td;
  }

  function drawFloor(floor) {
    var values = {dials_per_minute: floor.dials_per_minute, dials_today: floor.dials_today,
                  ringing: floor.calls.ringing, waiting: floor.calls.waiting, connected: floor.calls.connected,
                  answer_rate: percent(floor.answer_rate), abandon_rate: percent(floor.abandon_rate),
                  ledger_30d: ledger(floor.ledger["30d"]), ledger_24h: ledger(floor.ledger["24h"]),
                  promises_today: floor.promises_today, agents: agentsLine(floor.agents)};
    root.querySelectorAll("#floor [data-figure]").forEach(function (element) {
      text(element, values[element.dataset.figure]);
    });
  }

  function drawCampaigns(campaigns) {
    var body = root.querySelector("#board-campaigns tbody");
    body.replaceChildren();
    campaigns.forEach(function (campaign) {
      var row = document.createElement("tr");
      row.dataset.campaign = campaign.id;
      var name = document.createElement("a");
      name.href = "/campaigns/" + campaign.id;
      text(name, campaign.name);
      cell(row, "").appendChild(name);
      var status = document.createElement("span");
      status.className = "status status-" + campaign.status;
      text(status, label("status", campaign.status));
      cell(row, "").appendChild(status);
      cell(row, campaign.dials_per_minute, "num").dataset.figure = "dials_per_minute";
      cell(row, campaign.dials_today, "num").dataset.figure = "dials_today";
      cell(row, campaign.calls.ringing, "num");
      cell(row, campaign.calls.waiting, "num");
      cell(row, campaign.calls.connected, "num");
      cell(row, percent(campaign.answer_rate), "num");
      var over = campaign.ledger["30d"].rate > campaign.abandon_target || campaign.ledger["24h"].rate > campaign.abandon_target;
      cell(row, percent(campaign.abandon_rate) + " / " + percent(campaign.ledger["30d"].rate) + " / "
           + percent(campaign.ledger["24h"].rate), over ? "num bad" : "num");
      cell(row, percent(campaign.abandon_target), "num");
      cell(row, campaign.hopper.level, "num");
      cell(row, campaign.hopper.dry_in_s === null ? t.notDialling : duration(campaign.hopper.dry_in_s), "num");
      cell(row, campaign.promises_today, "num");
      cell(row, agentsLine(campaign.agents));
      body.appendChild(row);
    });
    var none = root.querySelector("#no-campaigns");
    none.hidden = campaigns.length > 0;
    text(none, t.none);
  }

  function force(agent, action, input) {
    var reason = (reasons[agent] || "").trim();
    var note = root.querySelector("#agent-message");
    if (!reason) {
      note.className = "error";
      text(note, t.reasonNeeded);
      input.focus();
      return;
    }
    window.dunline.api("POST", "/api/agents/" + encodeURIComponent(agent) + "/force", {action: action, reason: reason})
      .then(function (state) {
        note.className = "notice";
        text(note, t.done + agent + " → " + label("state", state.state));
        reasons[agent] = "";
      }, function (error) {
        note.className = "error";
        text(note, t.failed + error.message);
      });
  }

  function drawAgents(agents) {
    var body = root.querySelector("#board-agents tbody");
    var focused = document.activeElement && document.activeElement.dataset
      ? document.activeElement.dataset.reasonFor : undefined;
    body.replaceChildren();
    agentSince = {};
    agents.forEach(function (agent) {
      var row = document.createElement("tr");
      row.dataset.agent = agent.agent;
      cell(row, agent.agent);
      cell(row, label("state", agent.state), "state state-" + agent.state);
      cell(row, agent.reason || "");
      var since = cell(row, duration(agent.seconds_in_state), "num");
      agentSince[agent.agent] = {element: since, at: Date.now() - 1000 * agent.seconds_in_state};
      cell(row, agent.phone_up ? t.phoneUp : t.phoneDown, agent.phone_up ? "ok" : "muted");
      if (canForce) {
        var tools = cell(row, "", "actions");
        var input = document.createElement("input");
        input.placeholder = t.reason;
        input.maxLength = 64;
        input.dataset.reasonFor = agent.agent;
        input.value = reasons[agent.agent] || "";
        // The typed reason lives in `reasons`, not in the input: every refresh redraws the rows, and a reason
        // typed into a row just replaced would otherwise be lost between typing and the click.
        input.addEventListener("input", function () { reasons[agent.agent] = input.value; });
        input.setAttribute("aria-label", t.reason + " — " + agent.agent);
        tools.appendChild(input);
        [["pause", t.pause, "quiet"], ["logout", t.logout, "danger"]].forEach(function (spec) {
          var button = document.createElement("button");
          button.type = "button";
          button.className = spec[2];
          button.dataset.force = spec[0];
          text(button, spec[1]);
          button.disabled = agent.state === "logged_out";
          button.addEventListener("click", function () { force(agent.agent, spec[0], input); });
          tools.appendChild(button);
        });
        if (focused === agent.agent) { input.focus(); }
      }
      body.appendChild(row);
    });
    var none = root.querySelector("#no-agents");
    none.hidden = agents.length > 0;
    text(none, t.noAgents);
  }

  function tick() {
    Object.keys(agentSince).forEach(function (agent) {
      var entry = agentSince[agent];
      text(entry.element, duration((Date.now() - entry.at) / 1000));
    });
  }

  function draw(board) {
    var link = root.querySelector("#link-state");
    link.className = "pill ok";
    text(link, t.live);
    text(root.querySelector("#board-at"), board.at.replace("T", " ").slice(0, 19));
    drawFloor(board.floor);
    drawCampaigns(board.campaigns);
    drawAgents(board.agents);
  }

  document.addEventListener("DOMContentLoaded", function () {
    root = document.getElementById("wallboard");
    if (!root) { return; }
    t = Object.keys(root.dataset).reduce(function (labels, key) {
      if (key.indexOf("t") === 0 && key.length > 1) {
        labels[key.charAt(1).toLowerCase() + key.slice(2)] = root.dataset[key];
      }
      return labels;
    }, {});
    canForce = root.dataset.canForce === "yes";
    var handle = window.dunline.socket("/api/wallboard/socket", draw);
    window.setInterval(function () {
      tick();
      var socket = handle.socket;
      if (!socket || socket.readyState !== WebSocket.OPEN) {
        var link = root.querySelector("#link-state");
        link.className = "pill bad";
        text(link, t.offline);
      }
    }, 1000);
  });
})();
