// The page's scripts speak the reader's language: a script before this one,
// /i18n/<locale>.js (forum/i18n.py), sets window.forumCatalog to this locale's
// strings, and every script asks here.  Text not in the catalog (English) is shown as
// written.  Placeholders are named, as in the Python catalogs: "%(num)s replies".
(function () {
  "use strict";

  var catalog = window.forumCatalog || {};
  var lang = document.documentElement.lang || "en";
  var rules = null;
  try { rules = new Intl.PluralRules(lang); } catch (e) { rules = null; }

  function fill(text, values) {
    if (!values) return text;
    return text.replace(/%\((\w+)\)s/g, function (whole, name) {
      return Object.prototype.hasOwnProperty.call(values, name) ? String(values[name]) : whole;
    });
  }

  function gettext(message, values) {
    var found = catalog[message];
    return fill(typeof found === "string" && found ? found : message, values);
  }

  function ngettext(singular, plural, n, values) {
    var forms = catalog[singular];
    var text = null;
    if (forms && typeof forms === "object" && rules) text = forms[rules.select(n)] || forms.other;
    if (!text) text = n === 1 ? singular : plural;
    var all = Object.assign({ num: n.toLocaleString ? n.toLocaleString(lang) : n }, values || {});
    return fill(text, all);
  }

  window.forumI18n = { gettext: gettext, ngettext: ngettext, lang: lang };
})();
