// Progressive enhancement for the discussion: every action here also works as a
// plain link or form without this file.  Inline reply boxes, posting without a
// reload, "Load more", "N more replies" in place, and permalinks to comments on
// later pages.  What the embedded thread does alike is in comment-dom.js.
import {
  announcer, closeReplyForm, fromHTML, openReplyForm, placePosted, renewKey, replaceComment,
  showBanDone, showFormStatus, showMenuStatus, showMoreReplies, showTally,
} from "./comment-dom.js";
import { forgetProof, proofFor, tokenFor } from "./guest-proof.js";

// The reader's language (static/js/i18n.js, loaded before every module).
const { gettext, ngettext } = window.forumI18n;

(function () {
  "use strict";

  var discussion = document.getElementById("discussion");
  if (!discussion) return;
  var live = document.getElementById("thread-live");
  var MAX_NESTING = Number(discussion.dataset.maxNesting) || 6;

  var announce = announcer(live);

  // A permalink to a comment that is not on this page: ask for its conversation.
  var match = /^#c(\d+)$/.exec(window.location.hash);
  if (match && !document.getElementById("c" + match[1])) {
    var url = new URL(window.location.href);
    url.searchParams.set("comment", match[1]);
    url.searchParams.delete("cursor");
    window.location.replace(url.toString());
    return;
  }

  function insertComment(form, fragment) {
    var parentId = form.elements.parent_id ? form.elements.parent_id.value : "";
    return placePosted(fragment, parentId, {
      newestFirst: discussion.dataset.sort === "newest", maxNesting: MAX_NESTING,
    });
  }

  // "N more replies": the next chunk of a conversation's replies in place; a
  // failure falls back to the link's own page.
  function loadReplies(link) {
    if (link.getAttribute("aria-busy") === "true") return;
    link.setAttribute("aria-busy", "true");
    fetch(link.dataset.replies, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) throw new Error(String(response.status));
        return response.json();
      })
      .then(function (chunk) {
        var shown = showMoreReplies(link, chunk, MAX_NESTING);
        if (shown.focus) shown.focus.focus();
        announce(shown.message);
      })
      .catch(function () { window.location.href = link.href; });
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
      showTally(form, tally.score, tally.my_vote);
      announce(gettext("Score %(score)s.", { score: tally.score }));
    }).catch(function () {
      form.dataset.plain = "1";  // let the browser post it the plain way
      form.requestSubmit(button);
    });
  });

  // The moderator's menu on each comment: its forms in place.  A decision
  // answers the comment as the page now shows it; a ban, its sentence.  Any
  // surprise (signed out, offline) lets the browser post the form the plain way.
  discussion.addEventListener("submit", function (event) {
    var form = event.target;
    var menu = form.closest(".mod-menu");
    if (!menu || form.dataset.plain) return;
    event.preventDefault();
    var button = event.submitter;
    var data = new FormData(form);
    if (button && button.name) data.set(button.name, button.value);
    if (button) button.disabled = true;
    showMenuStatus(menu, "");
    // Not form.action: the menu's buttons are named "action", which shadows it.
    fetch(form.getAttribute("action"), {
      method: "POST", body: data, headers: { "X-Forum-Fragment": "1" }, credentials: "same-origin",
    }).then(function (response) {
      var type = response.headers.get("Content-Type") || "";
      if (type.indexOf("application/json") === -1) throw new Error(String(response.status));
      return response.json().then(function (answer) {
        if (button) button.disabled = false;
        if (!response.ok) {
          showMenuStatus(menu, answer.error.message);
          return;
        }
        if (answer.html) replaceComment(menu.closest("article"), answer.html);
        else showBanDone(form, answer.message);
        announce(answer.message);
      });
    }).catch(function () {
      if (button) button.disabled = false;
      form.dataset.plain = "1";
      form.requestSubmit(button);
    });
  });

  discussion.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.classList.contains("comment-form") || form.dataset.plain) return;
    event.preventDefault();
    var button = form.querySelector("button[type=submit]");
    button.disabled = true;
    // A guest's form carries a proof of work, made while they wrote.
    var guest = form.dataset.challenge !== undefined;
    var ready = guest ? tokenFor(form).then(function () { return proofFor(form); }) : null;
    Promise.resolve(ready).then(function (proof) {
      var data = new FormData(form);
      if (proof) {
        data.set("proof_challenge", proof.challenge);
        data.set("proof_nonce", proof.nonce);
      }
      if (guest) forgetProof(form);
      return fetch(form.action, {
        method: "POST",
        body: data,
        headers: { "X-Forum-Fragment": "1" },
        credentials: "same-origin",
      });
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
            counter.textContent = ngettext("(%(num)s comment)", "(%(num)s comments)", Number(count));
          }
          if (form.classList.contains("reply-form")) {
            form.remove();
          } else {
            // A guest keeps their name and address for the next comment.
            var kept = ["guest_name", "guest_email"].map(function (name) {
              var input = form.elements[name];
              return input ? [input, input.value] : null;
            }).filter(Boolean);
            form.reset();
            kept.forEach(function (pair) { pair[0].value = pair[1]; });
            renewKey(form);
          }
          var article = item && item.querySelector("article");
          if (article) article.focus();
          announce(article && article.classList.contains("pending")
            ? gettext("Your comment was sent and is awaiting moderation.")
            : gettext("Your comment was posted."));
        });
      }
      if (type.indexOf("application/json") !== -1) {
        return response.json().then(function (data) { showFormStatus(form, data.error.message); });
      }
      // Signed out meanwhile, or anything unexpected: let the browser do it.
      form.dataset.plain = "1";
      form.submit();
    }).catch(function () {
      showFormStatus(form, gettext("Could not reach the server. Check your connection and try again."));
    }).finally(function () {
      button.disabled = false;
    });
  });

  // Start a guest's proof of work when they start writing, so it is ready by "Post".
  discussion.addEventListener("focusin", function (event) {
    var form = event.target.closest && event.target.closest("form[data-challenge]");
    if (form) { tokenFor(form); proofFor(form); }
  });

  discussion.addEventListener("click", function (event) {
    var link = event.target.closest("a.reply-link, button.cancel-reply, a.load-more, a[data-replies]");
    if (!link) return;
    if (link.matches("a[data-replies]")) {
      event.preventDefault();
      loadReplies(link);
      return;
    }
    if (link.matches("button.cancel-reply")) {
      closeReplyForm(link.closest("form"));
      return;
    }
    if (link.matches("a.reply-link")) {
      var template = document.getElementById("reply-template");
      if (!template) return;
      event.preventDefault();
      openReplyForm(link, template);
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
        announce(ngettext("%(num)s more comment loaded.", "%(num)s more comments loaded.", items.length));
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
  var MAX_NESTING = Number(discussion.dataset.maxNesting) || 6;

  // The newest comment this page has or knows of: its own, those waiting behind
  // the button, and the newest behind each "N more replies" (data-latest), which
  // are not new, only collapsed.
  function newest() {
    var ids = Array.prototype.map.call(
      discussion.querySelectorAll("article[data-comment], a[data-latest]"),
      function (el) { return Number(el.dataset.comment || el.dataset.latest) || 0; }
    );
    pending.forEach(function (item) { ids.push(item.id); });
    return ids.length ? Math.max.apply(null, ids) : 0;
  }

  // Where a new comment goes: behind the button, or, in a conversation whose
  // replies are collapsed, into its "N more replies" count (they load in order
  // from there).  A reply in a conversation on another page is not for this one.
  function arrive(item) {
    if (document.getElementById("c" + item.id)) return;
    var collapsed = item.root_id &&
      discussion.querySelector('a[data-replies][data-root="' + item.root_id + '"]');
    if (collapsed) {
      var more = Number(collapsed.dataset.more) + 1;
      collapsed.dataset.more = String(more);
      collapsed.dataset.latest = String(Math.max(Number(collapsed.dataset.latest) || 0, item.id));
      collapsed.querySelector(".more-label").textContent =
        ngettext("%(num)s more reply", "%(num)s more replies", more);
      return;
    }
    var known = !item.parent_id || document.getElementById("c" + item.parent_id) ||
      pending.some(function (other) { return other.id === item.parent_id; });
    if (known) pending.push(item);
  }

  function place(item) {
    if (document.getElementById("c" + item.id)) return;
    placePosted(fromHTML(item.html), item.parent_id, { newestFirst: false, maxNesting: MAX_NESTING });
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
      update.items.forEach(arrive);
      if (pending.length) {
        button.textContent = ngettext("%(num)s new comment — show", "%(num)s new comments — show", pending.length);
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
