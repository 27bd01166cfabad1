// The console's shared script (loaded by base.html): window.dunline.api, .socket, .text.
// No library, no inline script (the Content-Security-Policy forbids both).
"use strict";

(function () {
  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  // fetch() a JSON API path with the session cookie and the CSRF header; resolves to the parsed body,
  // rejects with an Error carrying .status and .body on a non-2xx answer.
  function api(method, path, body) {
    var init = {
      method: method,
      credentials: "same-origin",
      headers: {"Accept": "application/json", "X-CSRF-Token": csrfToken()}
    };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    return fetch(path, init).then(function (response) {
      return response.text().then(function (text) {
        var parsed = null;
        if (text) {
          try { parsed = JSON.parse(text); } catch (ignored) { parsed = text; }
        }
        if (!response.ok) {
          var error = new Error((parsed && parsed.message) || response.statusText || String(response.status));
          error.status = response.status;
          error.body = parsed;
          throw error;
        }
        return parsed;
      });
    });
  }

  // A WebSocket to `path` on this host (wss on an https page) that reconnects with back-off (1 s doubling to
  // 30 s) until .close() is called; onMessage gets each message parsed as JSON.
  function socket(path, onMessage) {
    var delay = 1000, closed = false, current = null;
    var handle = {
      close: function () { closed = true; if (current) { current.close(); } },
      get socket() { return current; }
    };
    function open() {
      var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
      current = new WebSocket(scheme + window.location.host + path);
      current.onopen = function () { delay = 1000; };
      current.onmessage = function (event) {
        var message;
        try { message = JSON.parse(event.data); } catch (ignored) { return; }
        onMessage(message);
      };
      current.onclose = function () {
        if (closed) { return; }
        window.setTimeout(open, delay);
        delay = Math.min(delay * 2, 30000);
      };
    }
    open();
    return handle;
  }

  // Set an element's text; data never goes through innerHTML.
  function text(element, value) {
    element.textContent = value === null || value === undefined ? "" : String(value);
  }

  window.dunline = {api: api, socket: socket, text: text, csrfToken: csrfToken};
})();
