// Progressive enhancement for the discussion: every action here also works as a
// plain link or form without this file.  Inline reply boxes, posting without a
// reload, "Load more", and permalinks to comments on later pages.
(function () {
  "use strict";

  var discussion = document.getElementById("discussion");
  if (!discussion) return;
  var live = document.getElementById("thread-live");
  var MAX_NESTING = Number(discussion.dataset.maxNesting) || 6;

  function announce(message) {
    if (live) { live.textContent = ""; setTimeout(function () { live.textContent = message; }, 50); }
  }

  function fromHTML(html) {
    var template = document.createElement("template");
    template.innerHTML = html.trim();
    return template.content;
  }

  // A permalink to a comment that is not on this page: ask for its conversation.
  var match = /^#c(\d+)$/.exec(window.location.hash);
  if (match && !document.getElementById("c" + match[1])) {
    var url = new URL(window.location.href);
    url.searchParams.set("comment", match[1]);
    url.searchParams.delete("cursor");
    window.location.replace(url.toString());
    return;
  }

  // The server makes one comment per idempotency key, so a form sent again (a
  // retry after a lost answer) posts once; each new comment from a box gets a
  // new key.  getRandomValues, unlike randomUUID, works on plain http too.
  function renewKey(form) {
    var input = form.elements.idempotency_key;
    if (!input) return;
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    input.value = Array.prototype.map.call(bytes, function (b) {
      return (b + 256).toString(16).slice(1);
    }).join("");
  }

  function showError(form, message) {
    var status = form.querySelector(".form-status");
    status.textContent = message;
    status.hidden = false;
  }

  function insertComment(form, fragment) {
    var item = fragment.querySelector("li");
    var parentId = form.elements.parent_id ? form.elements.parent_id.value : "";
    if (!parentId) {
      var list = document.getElementById("comment-list");
      if (discussion.dataset.sort === "newest") list.prepend(fragment); else list.append(fragment);
      var empty = document.getElementById("empty-thread");
      if (empty) empty.remove();
      return item;
    }
    var parentItem = document.getElementById("c" + parentId).parentElement;
    // Past the indentation cap replies continue in the parent's flat list.
    var flat = parentItem.closest("ol.flat");
    if (flat) {
      flat.append(fragment);
      return item;
    }
    var replies = parentItem.querySelector(":scope > ol.replies");
    if (!replies) {
      replies = document.createElement("ol");
      var article = parentItem.querySelector(":scope > article");
      var capped = article && Number(article.dataset.depth) >= MAX_NESTING - 1;
      replies.className = capped ? "comments replies flat" : "comments replies";
      parentItem.append(replies);
    }
    replies.append(fragment);
    return item;
  }

  // Votes: send the pressed button's value, then show the new score and state.
  discussion.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.classList.contains("vote") || form.dataset.plain) return;
    event.preventDefault();
    var button = event.submitter;
    var data = new FormData(form);
    data.set("value", button.value);
    fetch(form.action, {
      method: "POST", body: data, headers: { "X-Forum-Fragment": "1" }, credentials: "same-origin",
    }).then(function (response) {
      if (!response.ok) throw new Error(String(response.status));
      return response.json();
    }).then(function (tally) {
      var up = form.querySelector(".vote-up");
      var down = form.querySelector(".vote-down");
      form.querySelector(".score").textContent = tally.score;
      up.setAttribute("aria-pressed", String(tally.my_vote === 1));
      down.setAttribute("aria-pressed", String(tally.my_vote === -1));
      up.value = tally.my_vote === 1 ? "0" : "1";
      down.value = tally.my_vote === -1 ? "0" : "-1";
      announce("Score " + tally.score + ".");
    }).catch(function () {
      form.dataset.plain = "1";  // let the browser post it the plain way
      form.requestSubmit(button);
    });
  });

  discussion.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.classList.contains("comment-form") || form.dataset.plain) return;
    event.preventDefault();
    var button = form.querySelector("button[type=submit]");
    button.disabled = true;
    fetch(form.action, {
      method: "POST",
      body: new FormData(form),
      headers: { "X-Forum-Fragment": "1" },
      credentials: "same-origin",
    }).then(function (response) {
      var type = response.headers.get("Content-Type") || "";
      // 200 + X-Forum-Replayed: this form was posted before; here is that comment.
      var replayed = response.status === 200 && response.headers.get("X-Forum-Replayed") === "1";
      if (response.status === 201 || replayed) {
        return response.text().then(function (html) {
          var fragment = fromHTML(html);
          var posted = fragment.querySelector("article[id]");
          var shown = posted && document.getElementById(posted.id);
          var item = shown ? shown.parentElement : insertComment(form, fragment);
          var count = response.headers.get("X-Forum-Comment-Count");
          var counter = discussion.querySelector("#discussion-heading .count");
          if (count !== null && counter) {
            counter.textContent = "(" + count + (count === "1" ? " comment)" : " comments)");
          }
          if (form.classList.contains("reply-form")) {
            form.remove();
          } else {
            form.reset();
            renewKey(form);
          }
          var article = item && item.querySelector("article");
          if (article) article.focus();
          announce(article && article.classList.contains("pending")
            ? "Your comment was sent and is awaiting moderation."
            : "Your comment was posted.");
        });
      }
      if (type.indexOf("application/json") !== -1) {
        return response.json().then(function (data) { showError(form, data.error.message); });
      }
      // Signed out meanwhile, or anything unexpected: let the browser do it.
      form.dataset.plain = "1";
      form.submit();
    }).catch(function () {
      showError(form, "Could not reach the server. Check your connection and try again.");
    }).finally(function () {
      button.disabled = false;
    });
  });

  discussion.addEventListener("click", function (event) {
    var link = event.target.closest("a.reply-link, button.cancel-reply, a.load-more");
    if (!link) return;
    if (link.matches("button.cancel-reply")) {
      var replyForm = link.closest("form");
      var owner = replyForm.previousElementSibling;
      replyForm.remove();
      var back = owner && owner.querySelector("a.reply-link");
      if (back) back.focus();
      return;
    }
    if (link.matches("a.reply-link")) {
      var template = document.getElementById("reply-template");
      if (!template) return;
      event.preventDefault();
      var article = link.closest("article");
      var next = article.nextElementSibling;
      if (next && next.classList.contains("reply-form")) { next.querySelector("textarea").focus(); return; }
      var form = template.content.firstElementChild.cloneNode(true);
      var id = link.dataset.reply;
      form.elements.parent_id.value = id;
      renewKey(form);
      var textarea = form.querySelector("textarea");
      textarea.id = "reply-body-" + id;
      var label = form.querySelector("label");
      label.htmlFor = textarea.id;
      var author = article.querySelector(".author");
      if (author) label.textContent = "Your reply to " + author.textContent;
      article.after(form);
      textarea.focus();
      return;
    }
    // Load more
    event.preventDefault();
    link.setAttribute("aria-busy", "true");
    fetch(link.dataset.fragment, { credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) throw new Error(String(response.status));
        return response.text();
      })
      .then(function (html) {
        var fragment = fromHTML(html);
        var items = fragment.querySelectorAll("ol#comment-list > li");
        var list = document.getElementById("comment-list");
        var added = Array.prototype.map.call(items, function (item) {
          // A comment posted from this page was already added at the end; a
          // later page brings it again: keep the one on screen, in its place.
          var article = item.querySelector(":scope > article");
          var shown = article && document.getElementById(article.id);
          var kept = shown ? shown.parentElement : item;
          list.append(kept);
          return kept;
        });
        var more = fragment.querySelector("a.load-more");
        if (more) {
          link.href = more.href;
          link.dataset.fragment = more.dataset.fragment;
          link.removeAttribute("aria-busy");
        } else {
          link.parentElement.remove();
        }
        if (added.length) {
          var first = added[0].querySelector("article");
          if (first) first.focus();
        }
        announce(items.length + " more comments loaded.");
      })
      .catch(function () { window.location.href = link.href; });
  });
})();

// Live: while the discussion is open, ask every 20 seconds whether anything is
// new.  The answer is an empty 304 while the thread's version is unchanged; new
// comments wait behind a "N new comments — show" button and then slot into
// their place in the tree.
(function () {
  "use strict";
  var discussion = document.getElementById("discussion");
  if (!discussion || discussion.dataset.live !== "on" || !window.fetch) return;
  var bar = discussion.querySelector(".new-comments");
  var button = document.getElementById("show-new");
  var pending = [];
  var etag = '"v' + discussion.dataset.version + '"';

  function newest() {
    var ids = Array.prototype.map.call(
      discussion.querySelectorAll("article[data-comment]"),
      function (el) { return Number(el.dataset.comment); }
    );
    pending.forEach(function (item) { ids.push(item.id); });
    return ids.length ? Math.max.apply(null, ids) : 0;
  }

  function place(item) {
    if (document.getElementById("c" + item.id)) return;
    var template = document.createElement("template");
    template.innerHTML = item.html.trim();
    var parent = item.parent_id && document.getElementById("c" + item.parent_id);
    if (!parent) {
      document.getElementById("comment-list").append(template.content);
      return;
    }
    var parentItem = parent.parentElement;
    var flat = parentItem.closest("ol.flat");
    if (flat) { flat.append(template.content); return; }
    var replies = parentItem.querySelector(":scope > ol.replies");
    if (!replies) {
      replies = document.createElement("ol");
      replies.className = "comments replies";
      parentItem.append(replies);
    }
    replies.append(template.content);
  }

  function poll() {
    if (document.hidden) return;
    var query = "?after=" + newest() + "&since=" + encodeURIComponent(discussion.dataset.since);
    fetch(discussion.dataset.updates + query, {
      headers: { "If-None-Match": etag }, credentials: "same-origin",
    }).then(function (response) {
      if (response.status !== 200) return null;
      etag = response.headers.get("ETag") || etag;
      return response.json();
    }).then(function (update) {
      if (!update) return;
      update.items.forEach(function (item) {
        if (!document.getElementById("c" + item.id)) pending.push(item);
      });
      if (pending.length) {
        button.textContent = pending.length + (pending.length === 1 ? " new comment" : " new comments") + " — show";
        bar.hidden = false;
      }
    }).catch(function () { /* offline for a moment: try again next time */ });
  }

  button.addEventListener("click", function () {
    pending.forEach(place);
    var first = pending.length && document.getElementById("c" + pending[0].id);
    pending = [];
    bar.hidden = true;
    if (first) first.focus();
  });
  setInterval(poll, 20000);
})();
