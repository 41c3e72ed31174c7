// The sign-in popup's last page: hand the new token to the discussion frame that
// opened this window. The message is addressed to our own origin only, so a page
// of any other site that opened this window receives nothing.
(function () {
  "use strict";

  var box = document.getElementById("handoff");
  var status = document.getElementById("handoff-status");
  if (!box) return;
  var token = box.dataset.token;
  box.removeAttribute("data-token");
  if (!window.opener || window.opener.closed) {
    status.textContent = window.forumI18n.gettext("The discussion that asked you to sign in is gone. Close this window and reload the article.");
    return;
  }
  window.opener.postMessage({ type: "forum:token", token: token }, window.location.origin);
  status.textContent = window.forumI18n.gettext("Signed in. You can close this window.");
  window.setTimeout(function () { window.close(); }, 300);
})();
