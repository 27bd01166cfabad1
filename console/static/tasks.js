// The tasks page (console/templates/tasks.html): closing a task with its note, then the row goes.
"use strict";

(function () {
  document.addEventListener("DOMContentLoaded", function () {
    var page = document.getElementById("tasks-page");
    if (!page) { return; }
    var message = document.getElementById("tasks-message");
    page.querySelectorAll("form.close-task").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        var note = form.elements.note.value.trim();
        window.dunline.api("POST", "/api/tasks/" + form.dataset.task + "/close", note ? {note: note} : {})
          .then(function () {
            var row = form.closest("tr");
            row.parentNode.removeChild(row);
            message.hidden = true;
          })
          .catch(function (error) {
            message.textContent = page.dataset.tFailed + error.message;
            message.hidden = false;
          });
      });
    });
  });
})();
