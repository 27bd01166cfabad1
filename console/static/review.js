// The compliance reviewer's pages: the call page (the recording, the transcript following the audio, the
// flagged spans marked, the decide forms) and the holds page (place, release). Every change goes through the
// JSON API (window.dunline.api, which sends the CSRF header). Text from the server is set with
// dunline.text, never as HTML; the page's words come from the template (data-* and <template> elements).
"use strict";

(function () {
  var dunline = window.dunline;

  function clone(id) {
    return document.getElementById(id).content.firstElementChild.cloneNode(true);
  }

  function clock(seconds) {
    var whole = Math.floor(seconds || 0);
    var minutes = Math.floor(whole / 60), rest = whole % 60;
    return minutes + ":" + (rest < 10 ? "0" : "") + rest;
  }

  // The segment's words with the flagged spans marked; `flags` are findings whose span lies in this segment.
  function markedWords(element, said, flags, labels) {
    var spans = flags.slice().sort(function (a, b) { return a.span_start - b.span_start; });
    var at = 0;
    spans.forEach(function (finding) {
      if (finding.span_start < at) { return; }  // overlaps a span already marked
      element.appendChild(document.createTextNode(said.slice(at, finding.span_start)));
      var mark = document.createElement("mark");
      mark.className = "flag flag-" + finding.category;
      mark.dataset.finding = finding.id;
      dunline.text(mark, said.slice(finding.span_start, finding.span_end));
      var label = document.createElement("small");
      label.className = "flag-label";
      dunline.text(label, (labels.categories[finding.category] || finding.category) + " · " + finding.rule);
      element.appendChild(mark);
      element.appendChild(label);
      at = finding.span_end;
    });
    element.appendChild(document.createTextNode(said.slice(at)));
  }

  function callPage(root) {
    var labels = JSON.parse(root.dataset.labels);
    var audio = document.getElementById("call-audio");
    var list = document.getElementById("transcript");
    var segments = [];
    var current = null;

    function seek(seconds) {
      if (audio.hidden) { return; }
      audio.currentTime = seconds;
      audio.play().catch(function () { /* autoplay refused: the reviewer presses play */ });
    }

    // The segment being heard: the last one begun by `time`; it is marked and scrolled into view.
    function follow() {
      var time = audio.currentTime, found = null;
      segments.forEach(function (item) { if (item.start <= time) { found = item; } });
      if (found && time > found.end + 1) { found = null; }  // in a silence after it
      if (found === current) { return; }
      if (current) { current.element.classList.remove("current"); current.element.removeAttribute("aria-current"); }
      current = found;
      if (current) {
        current.element.classList.add("current");
        current.element.setAttribute("aria-current", "true");
        list.scrollTop = current.element.offsetTop - list.offsetTop - list.clientHeight / 3;
      }
    }

    function showReviews(element, reviews) {
      var box = element.querySelector(".reviews");
      box.replaceChildren();
      reviews.forEach(function (review) {
        var item = clone("review-template");
        dunline.text(item.querySelector(".reviewer"), review.reviewer);
        dunline.text(item.querySelector(".decision"), labels.statuses[review.decision] || review.decision);
        dunline.text(item.querySelector(".reason"), review.reason);
        box.appendChild(item);
      });
    }

    function showStatus(element, finding) {
      var status = element.querySelector(".status");
      dunline.text(status, labels.statuses[finding.status] || finding.status);
      status.className = "status status-" + finding.status;
      element.dataset.status = finding.status;
    }

    function findingItem(finding) {
      var element = clone("finding-template");
      element.dataset.finding = finding.id;
      dunline.text(element.querySelector(".category"), labels.categories[finding.category] || finding.category);
      var severity = element.querySelector(".severity");
      dunline.text(severity, labels.severities[finding.severity] || finding.severity);
      severity.className = "severity severity-" + finding.severity;
      dunline.text(element.querySelector(".rule"), finding.rule);
      dunline.text(element.querySelector(".speaker"), labels.speakers[finding.speaker] || finding.speaker);
      var jump = element.querySelector(".seek");
      if (finding.start_s === null) {
        jump.hidden = true;
      } else {
        dunline.text(jump, clock(finding.start_s) + "–" + clock(finding.end_s));
        jump.addEventListener("click", function () { seek(finding.start_s); });
      }
      var excerpt = element.querySelector(".excerpt");
      if (finding.span_start === null) {
        dunline.text(excerpt, finding.excerpt);
      } else {
        markedWords(excerpt, finding.excerpt, [finding], labels);
      }
      showStatus(element, finding);
      showReviews(element, finding.reviews);
      var form = element.querySelector("form.decide");
      form.querySelectorAll("input[type=radio]").forEach(function (radio) { radio.name = "decision-" + finding.id; });
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        var chosen = form.querySelector("input[type=radio]:checked");
        var outcome = form.querySelector(".outcome");
        var body = {decision: chosen ? chosen.value : null, reason: form.elements.reason.value};
        dunline.api("POST", "/api/review/findings/" + finding.id + "/decision", body).then(function (decided) {
          showStatus(element, decided);
          showReviews(element, decided.reviews);
          form.reset();
          outcome.className = "outcome notice";
          dunline.text(outcome, root.dataset.tSaved);
        }).catch(function (error) {
          outcome.className = "outcome error";
          dunline.text(outcome, root.dataset.tFailed + error.message);
        });
      });
      return element;
    }

    function showCall(call) {
      root.querySelectorAll("[data-field]").forEach(function (field) {
        var value = call[field.dataset.field];
        if (field.dataset.field === "campaign") { value = value ? value.name : null; }
        if (field.dataset.field === "started_at") { value = value.slice(0, 19).replace("T", " "); }
        dunline.text(field, value === null || value === undefined ? root.dataset.tNone : value);
      });
      if (call.recording_url) {
        audio.src = call.recording_url;
        audio.hidden = false;
      } else {
        document.getElementById("no-recording").hidden = false;
      }
      var bySegment = {};
      call.findings.forEach(function (finding) {
        if (finding.segment !== null) { (bySegment[finding.segment] = bySegment[finding.segment] || []).push(finding); }
        document.getElementById("findings").appendChild(findingItem(finding));
      });
      if (!call.transcript) {
        document.getElementById("no-transcript").hidden = false;
        return;
      }
      call.transcript.segments.forEach(function (segment, index) {
        var element = clone("segment-template");
        element.classList.add("speaker-" + segment.speaker);
        element.dataset.start = segment.start_s;
        element.dataset.end = segment.end_s;
        var time = element.querySelector(".time");
        dunline.text(time, clock(segment.start_s));
        time.addEventListener("click", function () { seek(segment.start_s); });
        dunline.text(element.querySelector(".speaker"), labels.speakers[segment.speaker] || segment.speaker);
        var flags = bySegment[index] || [];
        if (flags.length) { element.classList.add("flagged"); }
        markedWords(element.querySelector(".said"), segment.text, flags, labels);
        list.appendChild(element);
        segments.push({start: segment.start_s, end: segment.end_s, element: element});
      });
      audio.addEventListener("timeupdate", follow);
      audio.addEventListener("seeked", follow);
    }

    dunline.api("GET", "/api/review/calls/" + root.dataset.attempt).then(showCall).catch(function (error) {
      var message = document.getElementById("load-error");
      dunline.text(message, error.message);
      message.hidden = false;
    });
  }

  function holdsPage(root) {
    var message = document.getElementById("holds-message");

    function send(path, body) {
      dunline.api("POST", path, body).then(function () {
        window.location.reload();
      }).catch(function (error) {
        dunline.text(message, root.dataset.tFailed + error.message);
        message.hidden = false;
      });
    }

    var place = document.getElementById("place-hold");
    place.addEventListener("submit", function (event) {
      event.preventDefault();
      var body = {account: place.elements.account.value, kind: place.elements.kind.value,
                  scope: place.elements.scope.value};
      if (place.elements.note.value) { body.note = place.elements.note.value; }
      if (place.elements.until.value) { body.until = place.elements.until.value; }
      send("/api/holds", body);
    });
    root.querySelectorAll("form.release-hold").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        send("/api/holds/" + form.dataset.hold + "/release", {reason: form.elements.reason.value});
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var call = document.getElementById("review-call");
    if (call) { callPage(call); }
    var holds = document.getElementById("holds-page");
    if (holds) { holdsPage(holds); }
  });
})();
