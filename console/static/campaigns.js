// The campaign pages (console/campaign_pages.py): start / pause / finish buttons, and the segment builder of
// /campaigns/new with its live case count. Strings come from the templates' data-t-* attributes.
"use strict";

(function () {
  var COUNT_DELAY_MS = 250;  // a burst of typing asks for one count, not one per key

  function message(text, isError) {
    var element = document.getElementById("message");
    if (!element) { return; }
    element.className = isError ? "error" : "notice";
    window.dunline.text(element, text);
  }

  // Start / pause / finish: the JSON API, then the page again with the new status.
  function wireActions() {
    document.querySelectorAll("button[data-action]").forEach(function (button) {
      button.addEventListener("click", function () {
        var path = "/api/campaigns/" + encodeURIComponent(button.dataset.campaign) + "/" + button.dataset.action;
        button.disabled = true;
        window.dunline.api("POST", path).then(function () {
          window.location.reload();
        }, function (error) {
          button.disabled = false;
          var failed = document.getElementById("message").dataset.tFailed || "";
          message(failed + error.message, true);
        });
      });
    });
  }

  function checked(form, name) {
    return Array.prototype.map.call(form.querySelectorAll('input[name="' + name + '"]:checked'),
                                     function (input) { return input.value; });
  }

  function words(value) {
    return value.split(",").map(function (word) { return word.trim(); }).filter(Boolean);
  }

  // The segment as the API reads it: lists, and balances as decimal strings.
  function segmentOf(form) {
    var segment = {dpd: checked(form, "dpd"), regions: words(form.elements.regions.value),
                   products: checked(form, "products"), jurisdictions: checked(form, "jurisdictions")};
    ["min_balance", "max_balance"].forEach(function (name) {
      if (form.elements[name].value !== "") { segment[name] = form.elements[name].value; }
    });
    return segment;
  }

  // The same segment as /api/segments/count's query (the names of /api/cases).
  function queryOf(segment) {
    var names = {dpd: "dpd", regions: "region", products: "product", jurisdictions: "jurisdiction",
                 min_balance: "min_balance", max_balance: "max_balance"};
    var parts = [];
    Object.keys(names).forEach(function (key) {
      var value = segment[key];
      if (value === undefined || (Array.isArray(value) && value.length === 0)) { return; }
      parts.push(names[key] + "=" + encodeURIComponent(Array.isArray(value) ? value.join(",") : value));
    });
    return parts.join("&");
  }

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (whole, key) { return String(values[key]); });
  }

  function wireBuilder(form) {
    var output = document.getElementById("segment-count");
    var timer = null, asked = 0;

    function count() {
      var ticket = ++asked;
      window.dunline.text(output, form.dataset.tCounting);
      window.dunline.api("GET", "/api/segments/count?" + queryOf(segmentOf(form))).then(function (counted) {
        if (ticket !== asked) { return; }  // an older answer that arrived late
        output.dataset.cases = counted.cases;
        output.dataset.dialable = counted.dialable;
        window.dunline.text(output, fill(form.dataset.tCount, counted));
      }, function (error) {
        if (ticket === asked) { window.dunline.text(output, form.dataset.tCountFailed + error.message); }
      });
    }

    function later() {
      window.clearTimeout(timer);
      timer = window.setTimeout(count, COUNT_DELAY_MS);
    }
    ["dpd", "products", "jurisdictions", "min_balance", "max_balance", "regions"].forEach(function (name) {
      form.querySelectorAll('[name="' + name + '"]').forEach(function (input) {
        input.addEventListener("input", later);
        input.addEventListener("change", later);
      });
    });

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var elements = form.elements;
      var body = {name: elements.name.value.trim(), segment: segmentOf(form), dial_mode: elements.dial_mode.value,
                  agent_group: elements.agent_group.value.trim() || null,
                  caller_id: elements.caller_id.value.trim() || null, ivr_flow: elements.ivr_flow.value || null,
                  abandon_target: Number(elements.abandon_target.value) / 100};
      form.querySelectorAll("[aria-invalid]").forEach(function (input) { input.removeAttribute("aria-invalid"); });
      document.getElementById("create").disabled = true;
      window.dunline.api("POST", "/api/campaigns", body).then(function (created) {
        window.location.assign("/campaigns/" + created.id);
      }, function (error) {
        document.getElementById("create").disabled = false;
        var field = error.body && error.body.details && (error.body.details.parameter || error.body.details.field);
        if (field) {
          var input = elements[String(field).split(".").pop()];
          if (input && input.setAttribute) { input.setAttribute("aria-invalid", "true"); }
        }
        message(form.dataset.tFailed + error.message, true);
      });
    });
    count();
  }

  document.addEventListener("DOMContentLoaded", function () {
    wireActions();
    var form = document.getElementById("builder");
    if (form) { wireBuilder(form); }
  });
})();
