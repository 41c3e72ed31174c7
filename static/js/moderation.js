// Keyboard shortcuts and reload-free decisions for the moderation queues.
// Without this file every button is an ordinary form submission.
(function () {
  "use strict";

  var gettext = window.forumI18n.gettext;

  var form = document.getElementById("mod-queue");
  var dialog = document.getElementById("shortcuts");
  var live = document.getElementById("mod-live");
  var toggle = document.querySelector(".help-toggle");
  var search = document.getElementById("mod-q");

  function items() { return form ? Array.prototype.slice.call(form.querySelectorAll("li.mod-item:not(.done)")) : []; }
  // Said in the visible box at the foot of the screen (a polite live region),
  // until the next decision replaces it.
  var quiet = null;
  function announce(text) {
    if (!live) return;
    live.textContent = text;
    clearTimeout(quiet);
    quiet = setTimeout(function () { live.textContent = ""; }, 8000);
  }

  var current = null;
  function select(item) {
    if (current) current.classList.remove("current");
    current = item || null;
    if (current) {
      current.classList.add("current");
      current.focus();
      current.scrollIntoView({ block: "nearest" });
    }
  }

  function move(step) {
    var list = items();
    if (!list.length) return;
    var index = list.indexOf(current);
    select(list[Math.max(0, Math.min(list.length - 1, index + step))] || list[0]);
  }

  function updateCounts(counts) {
    Object.keys(counts || {}).forEach(function (name) {
      document.querySelectorAll('[data-queue-count="' + name + '"]').forEach(function (el) {
        el.textContent = counts[name];
      });
    });
    // The header's badge: what still waits, gone at zero.
    if (counts && typeof counts.waiting === "number") {
      document.querySelectorAll("[data-waiting-badge]").forEach(function (el) {
        el.hidden = counts.waiting === 0;
      });
    }
  }

  function decide(item, action) {
    // One decision at a time per comment: a second press would only meet "Already handled".
    if (item.getAttribute("aria-busy") === "true") return;
    var id = item.dataset.comment;
    var data = new FormData();
    data.append("csrf_token", document.querySelector('meta[name="csrf-token"]').content);
    data.append("action", action);
    data.append("seen", item.dataset.seen);
    data.append("revision", item.dataset.revision);
    var reason = document.getElementById("reason-" + id);
    if (action === "reject" && reason && reason.value) data.append("reason", reason.value);
    item.setAttribute("aria-busy", "true");
    return fetch(item.dataset.actionUrl, {
      method: "POST",
      body: data,
      headers: { "X-Forum-Fragment": "1" },
      credentials: "same-origin",
    }).then(function (response) {
      return response.json().then(function (answer) {
        item.removeAttribute("aria-busy");
        updateCounts(answer.counts);
        if (!response.ok) {
          var note = item.querySelector(".mod-error") || document.createElement("p");
          note.className = "mod-error error";
          note.setAttribute("role", "alert");
          note.textContent = answer.error.message;
          item.append(note);
          return;
        }
        var next = items()[items().indexOf(item) + 1] || items()[items().indexOf(item) - 1];
        item.classList.add("done");
        item.hidden = true;
        var box = item.querySelector("input[type=checkbox]");
        if (box) { box.checked = false; box.disabled = true; }  // out of any bulk action
        announce(gettext("Comment %(id)s: %(status)s.", { id: id, status: answer.status_label || answer.status }));
        if (next) {
          select(next);
        } else {
          // The last one on this page: say so, and keep focus somewhere sensible.
          var done = document.createElement("p");
          done.className = "empty";
          done.tabIndex = -1;
          done.textContent = gettext("Nothing more on this page. Reload for the next ones.");
          form.querySelector(".mod-list").after(done);
          current = null;
          done.focus();
        }
      });
    }).catch(function () {
      item.removeAttribute("aria-busy");
      var button = item.querySelector('button[value="' + action + '"]');
      button.form.requestSubmit(button);  // the plain form post still works
    });
  }

  if (form) form.addEventListener("click", function (event) {
    var button = event.target.closest("button[name=action]");
    if (!button) return;
    event.preventDefault();
    decide(button.closest("li.mod-item"), button.value);
  });

  if (form) form.addEventListener("focusin", function (event) {
    var item = event.target.closest("li.mod-item");
    if (item && item !== current) {
      if (current) current.classList.remove("current");
      current = item;
      current.classList.add("current");
    }
  });

  if (toggle) {
    toggle.hidden = false;
    toggle.addEventListener("click", function () { dialog.showModal(); });
  }

  // 1 to 4: the queues, in the order the menu lists them.
  var queueLinks = Array.prototype.slice.call(document.querySelectorAll(".mod-nav a[data-queue]"));

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    var typing = /^(INPUT|TEXTAREA|SELECT)$/.test(event.target.tagName) && event.target.type !== "checkbox";
    if (typing || (dialog && dialog.open && event.key !== "?")) return;
    var key = event.key;
    if (/^[1-9]$/.test(key) && queueLinks[key - 1]) {
      event.preventDefault();
      window.location.assign(queueLinks[key - 1].href);
    } else if (key === "/" && search) {
      event.preventDefault();
      search.focus();
      search.select();
    } else if (key === "?" && dialog) {
      if (dialog.open) dialog.close(); else dialog.showModal();
      event.preventDefault();
    } else if (key === "j") { move(1); event.preventDefault(); }
    else if (key === "k") { move(-1); event.preventDefault(); }
    else if (current && (key === "a" || key === "r" || key === "s")) {
      var action = { a: "approve", r: "reject", s: "spam" }[key];
      if (current.querySelector('button[value="' + action + '"]')) {
        event.preventDefault();
        decide(current, action);
      }
    } else if (current && key === "x") {
      var box = current.querySelector("input[type=checkbox]");
      if (box) { box.checked = !box.checked; event.preventDefault(); }
    }
  });

  // Start at the first item without moving focus; j, k or Tab take it from there.
  current = items()[0] || null;
  if (current) current.classList.add("current");
})();
