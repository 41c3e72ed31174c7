// Inline spoilers.  A comment's ||hidden text|| is stored (forum/markup.py) as
//   <span class="spoiler" tabindex="0"><span class="spoiler-text">…</span></span>
// which the stylesheet alone conceals and reveals while it has focus.  Here each
// becomes a disclosure instead: a real button with aria-expanded, and the text
// `hidden` (not rendered, not read aloud) until the button is pressed.  Spoilers
// that arrive later (a posted comment, "Load more") are enhanced as they appear.
(function () {
  "use strict";

  var count = 0;

  function childWithClass(parent, name) {
    for (var child = parent.firstElementChild; child; child = child.nextElementSibling) {
      if (child.classList.contains(name)) return child;
    }
    return null;
  }

  function enhance(spoiler) {
    var text = childWithClass(spoiler, "spoiler-text");
    if (!text || childWithClass(spoiler, "spoiler-toggle")) return;
    count += 1;
    text.id = "spoiler-text-" + count;
    var button = document.createElement("button");
    button.type = "button"; // never submits: comments also sit inside the moderation form
    button.className = "spoiler-toggle";
    button.textContent = window.forumI18n.gettext("Spoiler");
    button.setAttribute("aria-controls", text.id);
    // Moderators judge what they cannot see otherwise: in the queue, spoilers start open.
    var open = Boolean(spoiler.closest(".mod-item"));
    button.setAttribute("aria-expanded", String(open));
    text.hidden = !open;
    spoiler.removeAttribute("tabindex"); // the button takes over from the focusable span
    spoiler.insertBefore(button, text);
  }

  function enhanceWithin(root) {
    if (root.matches("span.spoiler")) enhance(root);
    root.querySelectorAll("span.spoiler").forEach(enhance);
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("button.spoiler-toggle");
    if (!button) return;
    var text = document.getElementById(button.getAttribute("aria-controls"));
    if (!text) return;
    var open = button.getAttribute("aria-expanded") !== "true";
    button.setAttribute("aria-expanded", String(open));
    text.hidden = !open;
  });

  enhanceWithin(document.documentElement);
  new MutationObserver(function (records) {
    records.forEach(function (record) {
      record.addedNodes.forEach(function (node) {
        if (node.nodeType === Node.ELEMENT_NODE) enhanceWithin(node);
      });
    });
  }).observe(document.body, { childList: true, subtree: true });
})();
