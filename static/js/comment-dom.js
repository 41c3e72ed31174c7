// What the article page (thread.js) and the embedded thread (embed-frame.js) do
// to comments alike: reply boxes, idempotency keys, placing a comment the server
// sent (a reply just posted, a chunk of "N more replies") in the tree, votes'
// tallies, form messages.  How each page talks to the server differs (a form
// with a cookie there, JSON with a bearer token here) and stays in its file.
// A plain ES module: no build step; both pages load it with their own script.

// The reader's language (static/js/i18n.js, loaded before every module).
const { gettext, ngettext } = window.forumI18n;

export function fromHTML(html) {
  var template = document.createElement("template");
  template.innerHTML = html.trim();
  return template.content;
}

// A function that says message in the live region (emptied first, so the same
// words said twice are read twice).
export function announcer(region) {
  return function (message) {
    if (!region) return;
    region.textContent = "";
    setTimeout(function () { region.textContent = message; }, 50);
  };
}

// -- idempotency keys ------------------------------------------------------------------
// The server makes one comment per key (forum/services/idempotency.py): sending
// a piece of writing again after a lost answer, or a double click, posts it once;
// each new piece of writing gets a new key.  One form everywhere, the server's
// own for the forms it renders: a version 4 UUID.

function uuidFromRandomBytes() {
  // randomUUID exists only in secure contexts; a forum on plain http (other
  // than localhost) still has getRandomValues.
  var bytes = window.crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40; // version 4
  bytes[8] = (bytes[8] & 0x3f) | 0x80; // RFC 4122 variant
  var hex = Array.prototype.map.call(bytes, function (b) { return (b + 256).toString(16).slice(1); }).join("");
  return [hex.slice(0, 8), hex.slice(8, 12), hex.slice(12, 16), hex.slice(16, 20), hex.slice(20)].join("-");
}

export function newKey() {
  return typeof window.crypto.randomUUID === "function" ? window.crypto.randomUUID() : uuidFromRandomBytes();
}

// Every comment form carries its key in a hidden idempotency_key field.
export function renewKey(form) {
  var input = form.elements.idempotency_key;
  if (input) input.value = newKey();
}

export function keyOf(form) {
  var input = form.elements.idempotency_key;
  if (!input.value) input.value = newKey();
  return input.value;
}

// -- forms -------------------------------------------------------------------------------

// The form's own message line (role=alert); an empty message hides it.
export function showFormStatus(form, message) {
  var status = form.querySelector(".form-status");
  status.textContent = message || "";
  status.hidden = !message;
}

// A reply box under the comment whose Reply link was followed, from the page's
// <template>: its own key, the parent's id, a label tied to its textarea that
// names whom it answers.  An open box is focused instead; returns the new form
// or null.
export function openReplyForm(link, template) {
  var article = link.closest("article");
  var next = article.nextElementSibling;
  if (next && next.classList.contains("reply-form")) {
    next.elements.body.focus();
    return null;
  }
  var form = template.content.firstElementChild.cloneNode(true);
  var id = link.dataset.reply;
  form.elements.parent_id.value = id;
  renewKey(form);
  // Every id in the box gets the comment's id, and what points at it follows.
  form.querySelectorAll("[id]").forEach(function (el) { el.id = el.id + "-" + id; });
  form.querySelectorAll("label[for]").forEach(function (el) { el.htmlFor = el.htmlFor + "-" + id; });
  form.querySelectorAll("[aria-describedby]").forEach(function (el) {
    var ids = el.getAttribute("aria-describedby").split(/\s+/);
    el.setAttribute("aria-describedby", ids.map(function (one) { return one + "-" + id; }).join(" "));
  });
  var textarea = form.elements.body;
  var label = form.querySelector('label[for="' + textarea.id + '"]');
  var author = article.querySelector(".author");
  if (author) label.textContent = gettext("Your reply to %(name)s", { name: author.textContent });
  article.after(form);
  textarea.focus();
  return form;
}

// Cancel: the box goes and focus returns to the Reply link it came from.
export function closeReplyForm(form) {
  var owner = form.previousElementSibling;
  form.remove();
  var back = owner && owner.querySelector("[data-reply]");
  if (back) back.focus();
}

// -- placing comments --------------------------------------------------------------------

// Put a comment (its <li> in fragment) under the parent's <article>: at the end
// of the parent's replies, or past the indentation cap in the parent's flat
// list; a new list of replies goes above the conversation's "N more replies".
export function placeUnder(parent, fragment, maxNesting) {
  var parentItem = parent.parentElement;
  var flat = parentItem.closest("ol.flat");
  if (flat) {
    flat.append(fragment);
    return;
  }
  var replies = parentItem.querySelector(":scope > ol.replies");
  if (!replies) {
    replies = document.createElement("ol");
    var capped = Number(parent.dataset.depth) >= maxNesting - 1;
    replies.className = capped ? "comments replies flat" : "comments replies";
    parentItem.insertBefore(replies, parentItem.querySelector(":scope > .more-replies"));
  }
  replies.append(fragment);
}

// A comment the server just made (its <li> in fragment): under its parent, or
// a new conversation at the top (newest first) or the end of #comment-list.
// Returns its <li>.
export function placePosted(fragment, parentId, options) {
  var item = fragment.querySelector("li");
  var parent = parentId && document.getElementById("c" + parentId);
  if (parent) {
    placeUnder(parent, fragment, options.maxNesting);
    return item;
  }
  var list = document.getElementById("comment-list");
  if (options.newestFirst) list.prepend(fragment); else list.append(fragment);
  var empty = document.getElementById("empty-thread");
  if (empty) empty.remove();
  return item;
}

// "N more replies": place a chunk of a conversation's replies, each under its
// parent (hidden comments above them arrive as "[deleted]" tombstones); the
// control then counts what is left, or goes.  Returns what to focus (the first
// new reply, else the control or the conversation) and what to announce.
export function showMoreReplies(control, chunk, maxNesting) {
  var first = null;
  var added = 0;
  chunk.items.forEach(function (item) {
    var parent = document.getElementById("c" + item.parent_id);
    // Already here (posted from this page), or nowhere to go.
    if (document.getElementById("c" + item.id) || !parent) return;
    var fragment = fromHTML(item.html);
    var article = fragment.querySelector("article");
    placeUnder(parent, fragment, maxNesting);
    if (article && !article.classList.contains("tombstone")) {
      added += 1;
      first = first || article;
    }
  });
  var conversation = document.getElementById("c" + control.dataset.root);
  control.removeAttribute("aria-busy");
  if (chunk.next) {
    control.dataset.replies = chunk.next;
    control.dataset.more = String(chunk.more);
    if (control.tagName === "A" && chunk.href) control.href = chunk.href;
    control.querySelector(".more-label").textContent = chunk.label;
  } else {
    control.parentElement.remove();
  }
  return {
    focus: first || (chunk.next ? control : conversation),
    message: chunk.next
      ? ngettext("%(num)s more reply loaded; %(rest)s to come.", "%(num)s more replies loaded; %(rest)s to come.", added, { rest: chunk.label })
      : ngettext("%(num)s more reply loaded.", "%(num)s more replies loaded.", added),
  };
}

// -- votes ---------------------------------------------------------------------------------

// The score and the reader's own vote after a vote: each button's pressed state
// and the value pressing it again sends (the same button again takes it back).
export function showTally(form, score, myVote) {
  var up = form.querySelector(".vote-up");
  var down = form.querySelector(".vote-down");
  form.querySelector(".score").textContent = String(score);
  up.setAttribute("aria-pressed", String(myVote === 1));
  down.setAttribute("aria-pressed", String(myVote === -1));
  up.value = myVote === 1 ? "0" : "1";
  down.value = myVote === -1 ? "0" : "-1";
}

// -- the moderator's menu ------------------------------------------------------------------
// Each page sends the menu's forms its own way (thread.js: the form with its
// cookie; embed-frame.js: the API with the frame's token); what they do with the
// answer is the same.

// The comment as the server now renders it, in place of the old one (its
// replies, and a reply box under it, stay where they are); its menu stays open
// with focus on it, so the moderator carries on from where they were.
export function replaceComment(old, html) {
  var fresh = fromHTML(html).querySelector("article");
  if (!old || !fresh) return null;
  fresh.dataset.depth = old.dataset.depth; // its place in the tree is the page's
  old.replaceWith(fresh);
  var menu = fresh.querySelector(".mod-menu");
  if (menu) {
    menu.open = true;
    menu.querySelector("summary").focus();
  } else {
    fresh.focus();
  }
  return fresh;
}

// What the menu says about the last thing done in it: an error (role=alert),
// or nothing.
export function showMenuStatus(menu, message) {
  var status = menu.querySelector(".mod-menu-body > .form-status");
  if (!status) return;
  status.textContent = message || "";
  status.hidden = !message;
}

// A ban or its lifting answers only a sentence: it takes the place of the form.
export function showBanDone(form, message) {
  var said = document.createElement("p");
  said.textContent = message;
  form.replaceWith(said);
}
