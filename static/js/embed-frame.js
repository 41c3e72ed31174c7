// The discussion inside a publisher's page (the iframe of /embed/threads/<key>).
// No cookies here: third-party frames lose them. The reader's bearer token comes
// from the sign-in popup (or the publisher's single sign-on) and is kept in this
// frame's own storage, or in memory where the browser refuses storage to frames.
// What the article page does alike (reply boxes, keys, placing comments) is in
// comment-dom.js.
import {
  announcer, closeReplyForm, fromHTML, keyOf, openReplyForm, placePosted, renewKey,
  replaceComment, showBanDone, showFormStatus, showMenuStatus, showMoreReplies, showTally,
} from "./comment-dom.js";
import { makeProof } from "./guest-proof.js";

// The reader's language (static/js/i18n.js, loaded before every module).
const { gettext, ngettext } = window.forumI18n;

(function () {
  "use strict";

  var root = document.getElementById("embed-root");
  if (!root) return;
  var host = root.dataset.hostOrigin;
  var own = window.location.origin;
  var STORE = "forum-token";
  var VIA = "forum-token-via"; // "host": the token came from the host page's sign-on
  var memoryToken = null;
  var memoryVia = null;
  var hostLogin = root.dataset.login === "host";
  var popup = null;
  var user = null;
  var asGuest = false; // signed out where guests are welcome
  var guestProof = null; // the proof of work for the guest's next comment
  var guestName = null; // [name, address] the guest last posted with

  // -- talking to the host page ----------------------------------------------

  function tellHost(message) {
    if (window.parent !== window) window.parent.postMessage(message, host);
  }

  var lastHeight = 0;
  function reportHeight() {
    var height = Math.ceil(root.getBoundingClientRect().height);
    if (height !== lastHeight) {
      lastHeight = height;
      tellHost({ type: "forum:height", height: height });
    }
  }
  if (window.ResizeObserver) new ResizeObserver(reportHeight).observe(root);
  window.addEventListener("load", reportHeight);
  document.addEventListener("toggle", reportHeight, true); // <details> opening

  function focusComment(id) {
    var target = document.getElementById("c" + id);
    if (!target) return false;
    document.querySelectorAll(".comment.targeted").forEach(function (el) { el.classList.remove("targeted"); });
    target.classList.add("targeted");
    target.focus({ preventScroll: true });
    tellHost({ type: "forum:scroll", top: target.getBoundingClientRect().top + window.scrollY });
    return true;
  }

  var announce = announcer(document.getElementById("embed-live"));
  var MAX_NESTING = Number(root.dataset.maxNesting) || 6;

  window.addEventListener("message", function (event) {
    var data = event.data || {};
    if (event.source === window.parent && event.origin === host) {
      if (data.type === "forum:sso" && typeof data.token === "string") exchangeSso(data.token);
      if (data.type === "forum:signout") signOut();
      if (data.type === "forum:focus" && /^\d+$/.test(String(data.id))) focusComment(data.id);
    } else if (popup && event.source === popup && event.origin === own) {
      if (data.type === "forum:token" && typeof data.token === "string") {
        saveToken(data.token, "forum");
        popup = null;
        refresh();
      }
    }
  });

  // -- the token ----------------------------------------------------------------

  function token() {
    try { return window.localStorage.getItem(STORE) || memoryToken; } catch (e) { return memoryToken; }
  }
  function tokenVia() {
    try { return window.localStorage.getItem(VIA) || memoryVia; } catch (e) { return memoryVia; }
  }
  function saveToken(value, via) {
    memoryToken = value;
    memoryVia = value && via ? via : null;
    try {
      if (value) window.localStorage.setItem(STORE, value); else window.localStorage.removeItem(STORE);
      if (memoryVia) window.localStorage.setItem(VIA, memoryVia); else window.localStorage.removeItem(VIA);
    } catch (e) { /* storage blocked for frames: memory only, for this page view */ }
  }

  // Ends a forum token on the server (it may be one this frame no longer holds).
  function revoke(bearer) {
    if (!bearer) return Promise.resolve();
    return fetch("/api/v1/tokens/current", {
      method: "DELETE", credentials: "omit",
      headers: { "Accept": "application/json", "Authorization": "Bearer " + bearer },
    }).catch(function () { /* it expires on its own */ });
  }

  function api(method, url, body, extra) {
    var headers = Object.assign({ "Accept": "application/json" }, extra || {});
    var bearer = token();
    if (bearer) headers["Authorization"] = "Bearer " + bearer;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    return fetch(url, {
      method: method, headers: headers, credentials: "omit",
      body: body === undefined ? undefined : JSON.stringify(body),
    }).then(function (response) {
      if (response.status === 204) return { ok: true, status: 204, data: null };
      return response.json().then(
        function (data) { return { ok: response.ok, status: response.status, data: data }; },
        function () { return { ok: response.ok, status: response.status, data: null }; }
      );
    });
  }

  function problem(result) {
    var error = result.data && result.data.error;
    if (!error) return gettext("Something went wrong (%(status)s). Try again.", { status: result.status });
    var fields = error.fields ? Object.keys(error.fields).map(function (k) { return error.fields[k]; }) : [];
    return fields.length ? fields.join(" ") : error.message;
  }

  function showError(message) {
    var box = document.getElementById("embed-error");
    box.textContent = message || "";
    box.hidden = !message;
    reportHeight();
  }

  // -- signing in and out ----------------------------------------------------------

  // The reader needs to sign in: the host page hears of it (forum:signin-needed
  // on the embed's element); unless it said it signs readers in itself
  // (data-login="host"), our own sign-in window opens too.
  function needSignIn(reason, url) {
    tellHost({ type: "forum:signin-needed", reason: reason });
    if (hostLogin || !url) return;
    popup = window.open(url, "forum-signin", "popup,width=480,height=680");
    if (!popup) showError(gettext("Your browser blocked the sign-in window. Allow pop-ups for this page and try again."));
  }
  document.getElementById("embed-signin").addEventListener("click", function () { needSignIn("signin", root.dataset.signin); });
  document.getElementById("embed-register").addEventListener("click", function () { needSignIn("register", root.dataset.register); });
  document.getElementById("embed-signout").addEventListener("click", signOut);

  // Each sign-in or sign-out the host page asks for supersedes the one before:
  // an answer that comes back after a newer request is thrown away (and its
  // token ended), so the frame always shows the reader the page signed in last.
  var signInTurn = 0;

  function signOut() {
    signInTurn += 1;
    var old = token();
    saveToken(null);
    user = null;
    var done = function () { refresh(); };
    revoke(old).then(done, done);
  }

  function exchangeSso(jwt) {
    var turn = (signInTurn += 1);
    // Whoever was signed in here is not the reader the page now vouches for:
    // their token goes first, whether or not the new one is accepted.
    var old = token();
    saveToken(null);
    revoke(old);
    api("POST", "/api/v1/tokens", { sso: jwt, site: host }).then(function (result) {
      if (turn !== signInTurn) {
        if (result.ok && result.data) revoke(result.data.token);
        return;
      }
      if (result.ok && result.data && result.data.token) {
        saveToken(result.data.token, "host");
        refresh();
      } else {
        var why = problem(result);
        tellHost({ type: "forum:signin-failed", message: why });
        // Signed out now (the token before went first); then the reason, which
        // the fresh list would otherwise clear.
        refresh().then(function () { showError(gettext("Signing in through %(site)s did not work: %(why)s", { site: host, why: why })); });
      }
    }, function () {
      if (turn !== signInTurn) return;
      showError(gettext("The forum could not be reached to sign you in."));
      tellHost({ type: "forum:signin-failed", message: gettext("The forum could not be reached.") });
    });
  }

  // The token stopped working (expired, or revoked elsewhere): signed out, and
  // the host page may sign the reader in again.
  function expired() {
    saveToken(null);
    tellHost({ type: "forum:signin-needed", reason: "expired" });
    refresh().then(function () {
      showError(gettext("Your sign-in has ended. Sign in again to post: what you wrote is kept."));
    });
  }

  // The host page hears when the reader in the frame changes. Who they are it
  // learns only for a sign-in it made itself (its own reader): a reader who
  // signed in through our window stays anonymous to the page.
  var announced = null;
  function announceAccount() {
    var now = user ? user.username : null;
    if (now === announced) return;
    announced = now;
    // What the composer said to the reader before ("sign in again") is past.
    showFormStatus(document.getElementById("embed-compose"), "");
    if (!user) {
      tellHost({ type: "forum:signed-out" });
    } else if (tokenVia() === "host") {
      tellHost({ type: "forum:signed-in", user: { username: user.username, display_name: user.display_name } });
    } else {
      tellHost({ type: "forum:signed-in", user: null });
    }
  }

  // Signed out where guests are welcome: the composer asks for a name.
  function guestMode(on, canPost) {
    asGuest = on;
    document.getElementById("embed-compose").hidden = !(canPost || on);
    document.getElementById("embed-guest").hidden = !on;
    document.getElementById("embed-guest-name").required = on;
  }

  function showAccount(data) {
    user = data.user;
    announceAccount();
    var name = document.getElementById("embed-user");
    name.textContent = user ? gettext("Signed in as %(name)s", { name: user.display_name }) : "";
    name.hidden = !user;
    document.getElementById("embed-signout").hidden = !user;
    document.getElementById("embed-signin-area").hidden = !!user;
    guestMode(!user && !!data.guests, data.can_post);
    var notice = document.getElementById("embed-notice");
    notice.textContent = data.notice || "";
    notice.hidden = !data.notice;
    var count = document.getElementById("embed-count");
    count.dataset.count = String(data.count);
    shown = data.count;
    count.textContent = ngettext("%(num)s comment", "%(num)s comments", data.count);
  }

  // The thread as this reader sees it (their pending comments, their votes).
  // inPlace: focusId is a reply just posted under a comment on screen; it joins
  // the list where it belongs and the list stays as it is (a fresh list would
  // fold its conversation back behind "N more replies", the new reply with it).
  function refresh(focusId, inPlace) {
    var url = new URL(root.dataset.comments, own);
    url.searchParams.set("sort", root.dataset.sort);
    if (inPlace) url.searchParams.set("posted", focusId);
    return api("GET", url.pathname + url.search).then(function (result) {
      if (result.status === 401) {
        saveToken(null);
        tellHost({ type: "forum:signin-needed", reason: "expired" });
        return refresh(focusId);
      }
      if (!result.ok) { showError(problem(result)); return; }
      showAccount(result.data);
      var posted = inPlace && result.data.posted;
      var parent = posted && document.getElementById("c" + posted.parent_id);
      if (parent) {
        if (!document.getElementById("c" + posted.id)) {
          placePosted(fromHTML(posted.html), posted.parent_id, { maxNesting: MAX_NESTING });
        }
      } else if (root.dataset.focus !== "on") {
        document.getElementById("embed-comments").innerHTML = result.data.html;
      }
      showError("");
      reportHeight();
      if (focusId) focusComment(focusId);
    }, function () { showError(gettext("The forum could not be reached. Check your connection.")); });
  }

  // -- posting ---------------------------------------------------------------------------

  function formError(form, message) {
    showFormStatus(form, message);
    reportHeight();
  }

  function post(form, payload) {
    var button = form.querySelector("button[type=submit]");
    button.disabled = true;
    formError(form, "");
    api("POST", root.dataset.post, payload, { "Idempotency-Key": keyOf(form) }).then(function (result) {
      button.disabled = false;
      if (result.status === 401 && !payload.guest_name) expired();
      if (!result.ok) { formError(form, problem(result)); return; }
      if (payload.guest_name) {
        // A guest cannot see their comment until a moderator has: say where it went.
        guestName = [form.elements.guest_name.value, form.elements.guest_email.value];
        if (form.classList.contains("reply-form")) {
          form.remove();
        } else {
          form.reset();
          form.elements.guest_name.value = guestName[0];
          form.elements.guest_email.value = guestName[1];
          renewKey(form);
        }
        var waiting = result.data.comment.status === "pending";
        var thanks = waiting ? gettext("Thank you! Your comment waits for a moderator.") : gettext("Your comment is up.");
        var status = document.getElementById("embed-notice"); // role=status: read out
        status.textContent = thanks;
        status.hidden = false;
        if (!waiting) refresh(result.data.comment.id);
        reportHeight();
        return;
      }
      form.reset();
      renewKey(form);
      var parentId = form.elements.parent_id && form.elements.parent_id.value;
      if (form.classList.contains("reply-form")) form.remove();
      if (parentId && document.getElementById("c" + parentId)) {
        refresh(result.data.comment.id, true);
        return;
      }
      root.dataset.focus = "off";
      refresh(result.data.comment.id);
    }, function () {
      button.disabled = false;
      formError(form, gettext("The forum could not be reached; your text is still here. Try again."));
    });
  }

  document.getElementById("embed-compose").addEventListener("submit", function (event) {
    event.preventDefault();
    var form = event.target;
    var payload = { body: form.elements.body.value };
    if (form.elements.theory_title.value.trim()) payload.theory_title = form.elements.theory_title.value;
    if (form.elements.spoiler.checked) payload.spoiler = true;
    postAs(form, payload);
  });

  // A reader posts as themselves; a guest with their name, the trap field and
  // the proof of work (made while they wrote, each used once).
  function postAs(form, payload) {
    if (!asGuest) { post(form, payload); return; }
    payload.guest_name = form.elements.guest_name.value;
    if (form.elements.guest_email.value.trim()) payload.guest_email = form.elements.guest_email.value;
    if (form.elements.website.value) payload.guest_website = form.elements.website.value;
    var button = form.querySelector("button[type=submit]");
    button.disabled = true;
    (guestProof || makeProof(root.dataset.challenge)).then(function (proof) {
      guestProof = null;
      if (proof) payload.guest_proof = proof;
      post(form, payload);
    });
  }
  // The proof of work starts when the guest starts writing, so it is ready by "Post".
  root.addEventListener("focusin", function (event) {
    if (asGuest && !guestProof && event.target.closest("form.comment-form")) {
      guestProof = makeProof(root.dataset.challenge);
    }
  });

  root.addEventListener("click", function (event) {
    var reply = event.target.closest("[data-reply]");
    if (reply) {
      event.preventDefault();
      var box = openReplyForm(reply, document.getElementById("embed-reply"));
      if (box) {
        // A guest answers with their name too (kept from their last comment).
        box.querySelector(".guest-reply").hidden = !asGuest;
        box.elements.guest_name.required = asGuest;
        if (asGuest && guestName) {
          box.elements.guest_name.value = guestName[0];
          box.elements.guest_email.value = guestName[1];
        }
      }
      reportHeight();
      return;
    }
    if (event.target.closest(".cancel-reply")) {
      closeReplyForm(event.target.closest("form"));
      reportHeight();
      return;
    }
    var link = event.target.closest("a.permalink");
    if (link) {
      event.preventDefault();
      var id = link.closest("article").dataset.comment;
      tellHost({ type: "forum:permalink", id: id });
      focusComment(id);
      return;
    }
    var replyChunk = event.target.closest("[data-replies]");
    if (replyChunk) {
      event.preventDefault();
      loadReplies(replyChunk);
      return;
    }
    var more = event.target.closest("a.load-more");
    if (more) {
      event.preventDefault();
      api("GET", more.dataset.more).then(function (result) {
        if (!result.ok) { showError(problem(result)); return; }
        var holder = more.closest("p.more");
        var template = document.createElement("template");
        template.innerHTML = result.data.html;
        var list = document.getElementById("comment-list");
        var items = template.content.querySelectorAll("#comment-list > li");
        items.forEach(function (item) { list.append(item); });
        var next = template.content.querySelector("p.more");
        holder.replaceWith(next || document.createTextNode(""));
        reportHeight();
      });
    }
  });

  // "N more replies": the next chunk of a conversation's replies (as the token's
  // bearer sees them) in place; the host page makes room (the ResizeObserver
  // would too) and the live region says what came.
  function loadReplies(control) {
    if (control.getAttribute("aria-busy") === "true") return;
    control.setAttribute("aria-busy", "true");
    api("GET", control.dataset.replies).then(function (result) {
      control.removeAttribute("aria-busy");
      if (result.status === 401) { saveToken(null); refresh(); return; }
      if (!result.ok || !result.data) { showError(problem(result)); return; }
      var shown = showMoreReplies(control, result.data, MAX_NESTING);
      showError("");
      reportHeight();
      if (shown.focus) shown.focus.focus({ preventScroll: true });
      announce(shown.message);
    }, function () {
      control.removeAttribute("aria-busy");
      showError(gettext("The forum could not be reached. Check your connection."));
    });
  }

  root.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.dataset.api && form.closest(".mod-menu")) {
      event.preventDefault();
      moderate(form, event.submitter);
    } else if (form.classList.contains("reply-form")) {
      event.preventDefault();
      postAs(form, { body: form.elements.body.value, parent_id: Number(form.elements.parent_id.value) });
    } else if (form.classList.contains("vote")) {
      event.preventDefault();
      var button = event.submitter;
      var id = form.closest("article").dataset.comment;
      api("POST", "/api/v1/comments/" + id + "/votes", { value: Number(button.value) }).then(function (result) {
        if (result.status === 401) expired();
        if (!result.ok) { showError(problem(result)); return; }
        showTally(form, result.data.score, result.data.my_vote);
      });
    }
  });

  // -- the moderator's menu ------------------------------------------------------------
  // No session in the frame: each form of a comment's menu names the API call
  // (data-api) made with the frame's token, the same decisions as everywhere
  // (POST /api/v1/moderation/comments/{id}, the bans under /moderation/users).
  // A decision then brings the comment as the frame now shows it, in place.

  function menuRequest(form, button) {
    if (form.dataset.method === "DELETE") return { method: "DELETE", body: undefined };
    var fields = form.elements;
    if (!button || button.name !== "action") {
      // A ban: until the end of the chosen day (UTC), as the page's form does.
      var ban = { reason: fields.reason.value };
      if (fields.until.value) ban.until = fields.until.value + "T23:59:00Z";
      return { method: "POST", body: ban };
    }
    var body = { action: button.value, revision: Number(fields.revision.value) };
    ["reason", "note", "link"].forEach(function (name) {
      if (fields[name] && fields[name].value.trim()) body[name] = fields[name].value.trim();
    });
    return { method: "POST", body: body };
  }

  function moderate(form, button) {
    var menu = form.closest(".mod-menu");
    var article = menu.closest("article");
    var request = menuRequest(form, button);
    if (button) button.disabled = true;
    showMenuStatus(menu, "");
    api(request.method, form.dataset.api, request.body).then(function (result) {
      if (button) button.disabled = false;
      if (result.status === 401) { expired(); return; }
      if (!result.ok) { showMenuStatus(menu, problem(result)); reportHeight(); return; }
      if (!request.body || !request.body.action) {
        var name = article.querySelector(".author");
        var who = name ? name.textContent : "";
        var said = request.method === "DELETE"
          ? gettext("%(name)s may post again.", { name: who })
          : gettext("%(name)s is banned from posting.", { name: who });
        showBanDone(form, said);
        announce(said);
        reportHeight();
        return;
      }
      return api("GET", root.dataset.oneComment.replace(/\/0$/, "/" + article.dataset.comment)).then(function (fresh) {
        if (fresh.ok && fresh.data) replaceComment(article, fresh.data.html);
        announce(gettext("Done: the comment is updated."));
        reportHeight();
      });
    }, function () {
      if (button) button.disabled = false;
      showMenuStatus(menu, gettext("The forum could not be reached. Check your connection."));
      reportHeight();
    });
  }

  // -- new comments from others ----------------------------------------------------------
  // While the frame is on screen, ask now and then whether the count changed; the
  // reader decides when to show them (nothing jumps under their eyes).

  var shown = Number(document.getElementById("embed-count").dataset.count) || 0;
  var newBox = document.getElementById("embed-new");
  var newButton = document.getElementById("embed-show-new");
  var every = Number(root.dataset.poll) * 1000;
  function poll() {
    if (document.hidden) return;
    api("GET", root.dataset.threadApi).then(function (result) {
      if (!result.ok || !result.data) return;
      var fresh = result.data.comment_count - shown;
      if (fresh > 0) {
        newButton.textContent = ngettext("Show %(num)s new comment", "Show %(num)s new comments", fresh);
        newBox.hidden = false;
        reportHeight();
      }
    }, function () { /* try again next time */ });
  }
  if (every > 0) window.setInterval(poll, every);
  newButton.addEventListener("click", function () {
    newBox.hidden = true;
    root.dataset.focus = "off";
    refresh();
  });

  // -- start ----------------------------------------------------------------------------

  renewKey(document.getElementById("embed-compose"));
  if (token()) {
    refresh();
  } else {
    if (root.dataset.guests === "on") guestMode(true, false);
    reportHeight();
  }
  tellHost({ type: "forum:ready", signedIn: !!token(), title: document.title });
  if (root.dataset.focus === "on") {
    var wanted = document.querySelector(".comment[id^=c]");
    var match = /[?&]comment=(\d+)/.exec(window.location.search);
    if (match) focusComment(match[1]); else if (wanted) focusComment(wanted.dataset.comment);
  }
})();
