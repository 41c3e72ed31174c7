/* forum embed: put a discussion on your page with one line.

   <div id="forum-thread" data-thread="KEY" data-title="Title" data-url="https://…"></div>
   <script src="https://FORUM/embed.js" async></script>

   Optional: data-theme="light|dark|auto", data-lang="es" (else the reader's browser),
   data-sso="<token from your server>",
   data-login="host" (your page signs readers in: the frame opens no sign-in
   window of its own and only tells you, see below).
   Elements with data-forum-count="KEY" get "N comments".
   The discussion lives in an iframe served by the forum; this script only places
   it, keeps its height right and carries permalinks (#c123) between the two.

   Your page's sign-in, kept in step with the frame's:
     forumEmbed.signIn(token [, element])  a fresh sign-on token for the reader now
                                           signed in (the same as setting data-sso)
     forumEmbed.signOut([element])         sign the reader out of the frame too,
                                           however they signed in there
   and events on the embed's element (#forum-thread or .forum-thread):
     forum:signin-needed  the reader wants to comment, reply or vote signed out
                          (detail.reason: "signin", "register" or "expired")
     forum:signed-in      detail.user: {username, display_name} for a reader your
                          token signed in; null for one who signed in with us
     forum:signed-out     the frame signed out (by you, by the reader, or expired)
     forum:signin-failed  detail.message: why a token of yours was refused */
(function () {
  "use strict";

  var script = document.currentScript;
  if (!script || !script.src) return;
  var forum = new URL(script.src).origin;
  var controls = new WeakMap(); // embed element -> what forumEmbed may ask of it

  function frameFor(box) {
    if (box.getAttribute("data-forum-mounted")) return;
    box.setAttribute("data-forum-mounted", "1");
    var key = box.getAttribute("data-thread");
    if (!key) return;
    var params = new URLSearchParams();
    params.set("origin", location.origin);
    params.set("title", box.getAttribute("data-title") || document.title);
    params.set("url", box.getAttribute("data-url") || location.href.split("#")[0]);
    params.set("theme", box.getAttribute("data-theme") || "auto");
    if (box.getAttribute("data-login") === "host") params.set("login", "host");
    // The discussion's language: data-lang, else the reader's browser decides.
    if (box.getAttribute("data-lang")) params.set("lang", box.getAttribute("data-lang"));
    var wanted = /^#c(\d+)$/.exec(location.hash);
    if (wanted) params.set("comment", wanted[1]);

    var frame = document.createElement("iframe");
    frame.src = forum + "/embed/threads/" + encodeURIComponent(key) + "?" + params.toString();
    frame.title = "Discussion: " + params.get("title");
    frame.setAttribute("scrolling", "no");
    // The forum starts a new discussion only for a request that names this site
    // as where it came from: send the origin even where the page sends nothing.
    frame.referrerPolicy = "origin";
    frame.style.cssText = "display:block;width:100%;height:320px;border:0;overflow:hidden;color-scheme:normal";
    box.appendChild(frame);

    function tell(message) {
      if (frame.contentWindow) frame.contentWindow.postMessage(message, forum);
    }

    // Sign-on tokens go to the frame once each (the forum accepts each once),
    // when it is ready and whenever data-sso changes after that.
    var ready = false;
    var sent = null;
    var signOutWaiting = false;
    function sendSignIn() {
      if (!ready) return;
      if (signOutWaiting) {
        signOutWaiting = false;
        tell({ type: "forum:signout" });
      }
      var sso = box.getAttribute("data-sso");
      if (sso && sso !== sent) {
        sent = sso;
        tell({ type: "forum:sso", token: sso });
      } else if (!sso && sent) {
        sent = null;
        tell({ type: "forum:signout" });
      }
    }
    new MutationObserver(sendSignIn).observe(box, { attributes: true, attributeFilter: ["data-sso"] });
    controls.set(box, {
      signOut: function () {
        // Whoever signed the frame in (your token, or the reader in our window).
        sent = null;
        box.removeAttribute("data-sso");
        if (ready) tell({ type: "forum:signout" }); else signOutWaiting = true;
      },
    });

    function announce(name, detail) {
      box.dispatchEvent(new CustomEvent(name, { bubbles: true, detail: detail || {} }));
    }

    window.addEventListener("message", function (event) {
      // Only the frame we made, from the forum's origin, may talk to us.
      if (event.origin !== forum || event.source !== frame.contentWindow) return;
      var data = event.data || {};
      if (data.type === "forum:height" && typeof data.height === "number") {
        frame.style.height = Math.max(120, Math.ceil(data.height)) + "px";
      } else if (data.type === "forum:scroll" && typeof data.top === "number") {
        var top = frame.getBoundingClientRect().top + window.scrollY + data.top - 16;
        window.scrollTo({ top: Math.max(0, top), behavior: "smooth" });
      } else if (data.type === "forum:permalink" && /^\d+$/.test(String(data.id))) {
        history.replaceState(null, "", "#c" + data.id);
      } else if (data.type === "forum:ready") {
        ready = true;
        // The frame's own title is in the reader's language.
        if (typeof data.title === "string" && data.title) frame.title = data.title.slice(0, 300);
        var spent = sent && sent === box.getAttribute("data-sso");
        sendSignIn();
        // The frame came back (its own sort links reload it) without its sign-in,
        // which lived in memory only, and the token here was used already.
        if (spent && data.signedIn === false) announce("forum:signin-needed", { reason: "expired" });
        if (wanted) tell({ type: "forum:focus", id: wanted[1] });
      } else if (data.type === "forum:signin-needed") {
        announce("forum:signin-needed", { reason: String(data.reason || "signin") });
      } else if (data.type === "forum:signed-in") {
        // Who it is only for a sign-in your page made (your token).
        var who = data.user && typeof data.user === "object"
          ? { username: String(data.user.username), display_name: String(data.user.display_name) }
          : null;
        announce("forum:signed-in", { user: who });
      } else if (data.type === "forum:signed-out") {
        announce("forum:signed-out");
      } else if (data.type === "forum:signin-failed") {
        announce("forum:signin-failed", { message: String(data.message || "") });
      }
    });

    window.addEventListener("hashchange", function () {
      var match = /^#c(\d+)$/.exec(location.hash);
      if (match) tell({ type: "forum:focus", id: match[1] });
    });
  }

  function showCounts() {
    var boxes = document.querySelectorAll("[data-forum-count]");
    var keys = [];
    boxes.forEach(function (box) {
      var key = box.getAttribute("data-forum-count");
      if (key && keys.indexOf(key) < 0) keys.push(key);
    });
    // The server answers up to 200 keys at a time.
    for (var i = 0; i < keys.length; i += 200) {
      fetchCounts(keys.slice(i, i + 200), boxes);
    }
  }

  function fetchCounts(keys, boxes) {
    var url = forum + "/api/v1/counts?keys=" + keys.map(encodeURIComponent).join(",");
    // "N comments" in the discussion's language: its data-lang, else the reader's
    // browser's (as the frame does).
    var host = document.querySelector("#forum-thread[data-lang], .forum-thread[data-lang]");
    if (host) url += "&lang=" + encodeURIComponent(host.getAttribute("data-lang"));
    fetch(url, { credentials: "omit" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (!data || !data.counts) return;
        boxes.forEach(function (box) {
          var n = data.counts[box.getAttribute("data-forum-count")];
          var label = data.labels && data.labels[box.getAttribute("data-forum-count")];
          if (typeof label === "string") box.textContent = label;
          else if (typeof n === "number") box.textContent = n + (n === 1 ? " comment" : " comments");
        });
      })
      .catch(function () { /* counts are a nicety; the page works without them */ });
  }

  function start() {
    document.querySelectorAll("#forum-thread, .forum-thread").forEach(frameFor);
    showCounts();
  }

  // The page's own sign-in, handed on: to the embed named, else the first one.
  function embedOf(element) {
    var box = element || document.querySelector("#forum-thread, .forum-thread");
    if (!box) throw new Error("forumEmbed: no #forum-thread or .forum-thread element on this page");
    return box;
  }
  window.forumEmbed = {
    signIn: function (token, element) {
      if (typeof token !== "string" || !token) throw new TypeError("forumEmbed.signIn needs a sign-on token");
      embedOf(element).setAttribute("data-sso", token);
    },
    signOut: function (element) {
      var box = embedOf(element);
      var control = controls.get(box);
      if (control) control.signOut(); else box.removeAttribute("data-sso");
    },
  };

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
