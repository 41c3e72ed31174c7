"""What stored HTML may hold, and the sanitizer that holds it to that.

The sanitizer is nh3, the Python binding of Ammonia (Rust): it parses HTML as a
browser does (html5ever), keeps only the allowlisted tags and attributes, and
serializes the tree again, in time linear in the HTML.  Tags off the allowlist
go and their text stays, as with bleach(strip=True); comments go.
"""

import nh3

_TEXT_TAGS = frozenset(
    {"p", "em", "strong", "code", "pre", "blockquote", "ul", "ol", "li", "a", "br"}
)
# span only ever carries an inline spoiler (see spoilers.py and _allowed_attribute).
COMMENT_TAGS = _TEXT_TAGS | {"span"}
# Articles are written by the site's own editors, so they may use headings too.
ARTICLE_TAGS = _TEXT_TAGS | {"h2", "h3", "h4", "hr"}
PROTOCOLS = frozenset({"http", "https", "mailto"})
LINK_REL = "nofollow ugc noopener"

# The attributes each tag may have; a span's only with exactly these values (the
# two spans of an inline spoiler).  Every link gets LINK_REL from the sanitizer.
_ATTRIBUTES = {"a": frozenset({"href", "title"}), "ol": frozenset({"start"})}
_SPAN_VALUES = {"class": frozenset({"spoiler", "spoiler-text"}), "tabindex": frozenset({"0"})}
_ABSOLUTE = tuple(f"{scheme}:{'' if scheme == 'mailto' else '//'}" for scheme in sorted(PROTOCOLS))


def _allowed_attribute(tag: str, name: str, value: str) -> bool:
    """The attribute policy, written out: the sanitizer() below applies it, and
    the tests check stored HTML against it."""
    if tag == "a" and name == "href":
        return is_absolute(value)
    if tag == "span":
        return value in _SPAN_VALUES.get(name, ())
    # rel: the sanitizer's own, LINK_REL on every link.
    return name in _ATTRIBUTES.get(tag, ()) or (tag, name) == ("a", "rel")


def is_absolute(href: str) -> bool:
    """Absolute links only, with a scheme in PROTOCOLS: a relative one ("https:foo",
    a bare "http") would point into whichever site shows the thread."""
    return href.lower().startswith(_ABSOLUTE)


def _only_absolute_links(tag: str, name: str, value: str) -> str | None:
    # Ammonia checks an href's scheme, but takes "https:foo" for an absolute URL
    # (as a URL parser does), where a browser resolves it against the page.
    if name == "href" and not is_absolute(value):
        return None
    return value


def sanitizer(tags: frozenset[str]) -> nh3.Cleaner:
    """nh3 with this policy.  nh3 0.3.7 is the first to escape "<" and ">" in
    attribute values: text.py relies on "<span" never appearing in one."""
    return nh3.Cleaner(
        tags=set(tags),
        clean_content_tags=set(),  # a stripped tag's text stays, as typed
        attributes={tag: set(names) for tag, names in _ATTRIBUTES.items()},
        tag_attribute_values={"span": {name: set(v) for name, v in _SPAN_VALUES.items()}},
        # Called for every attribute kept otherwise, about 1 µs each: under 1 ms
        # for the longest comment (bench/hostile_markdown.py's 1,666 spoilers).
        attribute_filter=_only_absolute_links,
        url_schemes=set(PROTOCOLS),
        url_relative="deny",
        link_rel=LINK_REL,
        strip_comments=True,
    )
