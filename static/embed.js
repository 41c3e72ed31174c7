/* forum embed: put a discussion on your page with one line.

   <div id="forum-thread" data-thread="KEY" data-title="Title" data-url="https://…"></div>
   <script src="https://FORUM/embed.js" async></script>

   Optional: data-theme="light|dark|auto", data-sso="<token from your server>".
   Elements with data-forum-count="KEY" get "N comments".
   The discussion lives in an iframe served by the forum; this script only places
   it, keeps its height right and carries permalinks (#c123) between the two. */
(function () {
  "use strict";

  var script = document.currentScript;
  if (!script || !script.src) return;
  var forum = new URL(script.src).origin;

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
        var sso = box.getAttribute("data-sso");
        if (sso) tell({ type: "forum:sso", token: sso });
        if (wanted) tell({ type: "forum:focus", id: wanted[1] });
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
    fetch(url, { credentials: "omit" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (!data || !data.counts) return;
        boxes.forEach(function (box) {
          var n = data.counts[box.getAttribute("data-forum-count")];
          if (typeof n === "number") box.textContent = n + (n === 1 ? " comment" : " comments");
        });
      })
      .catch(function () { /* counts are a nicety; the page works without them */ });
  }

  function start() {
    document.querySelectorAll("#forum-thread, .forum-thread").forEach(frameFor);
    showCounts();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
