"""Reading a Disqus export: the XML file from Disqus's "Export comments" page.

The file is read with expat as a stream, 64 KiB at a time, keeping only the
element being read: a 500 MB export needs no more memory than a small one.  A
document type declaration is refused outright, which rules out every entity
trick (billion laughs, external entities) before expat could expand anything;
a Disqus export never has one.

Its layout:

    <disqus xmlns="http://disqus.com" xmlns:dsq="http://disqus.com/disqus-internals">
      <category dsq:id="1">...</category>
      <thread dsq:id="7"><id>identifier</id><link>url</link><title>..</title>
        <createdAt>2013-01-01T12:00:00Z</createdAt><isClosed>false</isClosed>
        <isDeleted>false</isDeleted>...</thread>
      <post dsq:id="9"><message><![CDATA[<p>html</p>]]></message>
        <createdAt>..</createdAt><isDeleted>false</isDeleted><isSpam>false</isSpam>
        <author><name>..</name><email>..</email><username>..</username></author>
        <thread dsq:id="7"/><parent dsq:id="8"/></post>
    </disqus>

Messages are HTML.  Their HTML is never passed on: it is read for its text and a
few structures (paragraphs, line breaks, links, emphasis, quotes, code, lists,
spoilers), written out as Markdown, and that goes through forum.markup like
anything typed here.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from html.parser import HTMLParser
from urllib.parse import parse_qs, quote, urlsplit
from xml.parsers import expat

from forum.models import CommentStatus
from forum.ops.imports.items import (
    ArchiveError,
    Item,
    PostItem,
    ThreadItem,
    check_file,
    key_for_url,
    thread_key,
)

SOURCE, LABEL = "disqus", "Disqus"
CHUNK = 1 << 16
MESSAGE_LIMIT = 1_000_000  # characters of HTML kept per message; past it, "too long"
FIELD_LIMIT = 10_000  # ... per other field
SPAM = "spam in Disqus"
THREAD_DELETED = "thread deleted in Disqus"
NO_ID = "no dsq:id"
TOO_LONG = "message longer than a million characters"

# Which child elements of a <thread> and a <post> are read (author.* within <author>).
_FIELDS = {
    "thread": {"id", "link", "title", "createdAt", "isClosed", "isDeleted"},
    "post": {
        "message",
        "createdAt",
        "isDeleted",
        "isSpam",
        "isApproved",
        "author.name",
        "author.email",
        "author.username",
    },
}


def read(path: str) -> Callable[[], Iterator[Item]]:
    """The archive's items, afresh on each call; raises ArchiveError for a missing file
    (a malformed one raises it while being read)."""
    check_file(path)
    return lambda: _items(path)


def _items(path: str) -> Iterator[Item]:
    for record in _records(path):
        if record["kind"] == "thread":
            yield _thread(record)
        else:
            yield _post(record)


def _thread(record: dict) -> ThreadItem:
    external_id = record.get("dsq_id") or ""
    identifier = record.get("id", "").strip()
    link = record.get("link", "").strip()
    if identifier:
        key = thread_key(identifier)
    elif link:
        key = key_for_url(link)
    else:
        key = thread_key(f"disqus-{external_id}")
    return ThreadItem(
        external_id=external_id,
        key=key,
        title=record.get("title", ""),
        url=link or None,
        created_at=_date(record.get("createdAt")),
        closed=_true(record.get("isClosed")),
        skip=THREAD_DELETED if _true(record.get("isDeleted")) else None,
    )


def _post(record: dict) -> PostItem:
    skip = None
    if not record.get("dsq_id"):
        skip = NO_ID
    elif _true(record.get("isSpam")):
        skip = SPAM
    elif record.get("message!"):
        skip = TOO_LONG
    status = CommentStatus.APPROVED
    if _true(record.get("isDeleted")):
        status = CommentStatus.DELETED
    elif record.get("isApproved", "").strip().lower() == "false":
        status = CommentStatus.PENDING
    return PostItem(
        external_id=record.get("dsq_id") or "(none)",
        thread_id=record.get("thread") or "",
        parent_id=record.get("parent") or None,
        author_name=record.get("author.name") or record.get("author.username") or "",
        author_email=record.get("author.email") or None,
        body=record.get("message", ""),
        created_at=_date(record.get("createdAt")),
        status=status,
        skip=skip,
        convert=message_to_markdown,
    )


def _true(text: str | None) -> bool:
    return (text or "").strip().lower() == "true"


def _date(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    if when.tzinfo is None:
        return when.replace(tzinfo=UTC)
    try:
        return when.astimezone(UTC)
    except OverflowError:
        return None


# -- the XML stream ------------------------------------------------------------------

_DSQ_ID = "http://disqus.com/disqus-internals id"


def _records(path: str) -> Iterator[dict]:
    """Each <thread> and <post> under the root, as a dict of the fields read."""
    parser = expat.ParserCreate(namespace_separator=" ")
    reader = _Reader(parser)
    try:
        with open(path, "rb") as file:
            while chunk := file.read(CHUNK):
                parser.Parse(chunk, False)
                yield from reader.take()
            parser.Parse(b"", True)
            yield from reader.take()
    except expat.ExpatError as error:
        raise ArchiveError(f"{path}: not a valid XML file ({error})") from None
    except ArchiveError as error:  # from the reader's handlers
        raise ArchiveError(f"{path}: {error}") from None
    except OSError as error:
        raise ArchiveError(f"{path}: cannot read it ({error.strerror or error})") from None
    if not reader.seen_root:
        raise ArchiveError(f"{path}: not a Disqus export (no <disqus> element)")


class _Reader:
    def __init__(self, parser) -> None:
        parser.buffer_text = True
        parser.buffer_size = CHUNK
        parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
        parser.StartDoctypeDeclHandler = self._refuse
        parser.EntityDeclHandler = self._refuse
        parser.ExternalEntityRefHandler = self._refuse
        parser.StartElementHandler = self._start
        parser.EndElementHandler = self._end
        parser.CharacterDataHandler = self._text
        self.done: list[dict] = []
        self.record: dict | None = None
        self.depth = 0
        self.field: str | None = None
        self.field_depth = 0
        self.parts: list[str] = []
        self.size = 0
        self.path3 = ""  # the <post>/<thread> child being read
        self.seen_root = False

    def take(self) -> list[dict]:
        done, self.done = self.done, []
        return done

    def _refuse(self, *args):
        raise ArchiveError("a document type declaration (DTD) is not allowed in an import file")

    def _start(self, name: str, attrs: dict) -> None:
        self.depth += 1
        local = name.rpartition(" ")[2]
        if self.depth == 1:
            if local != "disqus":
                raise ArchiveError(f"not a Disqus export (its root element is <{local}>)")
            self.seen_root = True
        elif self.depth == 2:
            self.record = {"kind": local, "dsq_id": attrs.get(_DSQ_ID)}
            if local not in _FIELDS:
                self.record = None
        elif self.record is not None and self.field is None:
            path = local if self.depth == 3 else None
            if self.depth == 3 and self.record["kind"] == "post" and local in ("thread", "parent"):
                self.record[local] = attrs.get(_DSQ_ID)  # a reference, not text
                path = None
            elif self.depth == 4 and self.path3 == "author":
                path = f"author.{local}"
            if self.depth == 3:
                self.path3 = local
            if path in _FIELDS[self.record["kind"]]:
                self.field, self.field_depth = path, self.depth
                self.parts, self.size = [], 0

    def _text(self, data: str) -> None:
        if self.field is not None:
            limit = MESSAGE_LIMIT if self.field == "message" else FIELD_LIMIT
            if self.size < limit:
                self.parts.append(data)
            self.size += len(data)

    def _end(self, name: str) -> None:
        if self.field is not None and self.depth == self.field_depth:
            text = "".join(self.parts)
            limit = MESSAGE_LIMIT if self.field == "message" else FIELD_LIMIT
            if self.size > limit:
                self.record[self.field + "!"] = True  # too long to keep
                text = text[:limit]
            self.record[self.field] = text
            self.field, self.parts = None, []
        if self.depth == 2 and self.record is not None:
            self.done.append(self.record)
            self.record = None
        self.depth -= 1


# -- messages: HTML to Markdown ---------------------------------------------------

_BLOCKS = frozenset(
    {"p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "table", "tr", "dl", "dt", "dd"}
    | {"section", "article", "header", "footer", "figure", "figcaption", "address"}
)
_DROPPED = frozenset({"script", "style", "template", "head", "title", "iframe", "object"})
_EMPHASIS = {"b": "**", "strong": "**", "i": "*", "em": "*"}
# Characters that mean something in Markdown text: escaped, so the words read as
# they did on Disqus ("2*3*4" stays that, "&copy;" stays literal).
_SPECIAL = re.compile(r"([\\`*_\[\]<>|&~])")
_LINE_START = re.compile(r"^(\d{1,9})([.)])(?=\s|$)|^([-+#=])")


def message_to_markdown(html: str) -> str:
    """Markdown that reads as the Disqus message did."""
    converter = _Converter()
    converter.feed(html)
    converter.close()
    return converter.result()


def _escape(text: str) -> str:
    return _SPECIAL.sub(r"\\\1", text)


def _link_target(href: str | None, title: str | None) -> str | None:
    """The address a link points to, absolute http(s)/mailto only, out of Disqus's
    click-tracking redirect (disq.us/url?url=<address>:<token>) if it is one."""
    href = (href or "").strip()
    try:
        parts = urlsplit(href)
    except ValueError:
        return None
    if parts.hostname in ("disq.us", "disqus.com") and parts.path.rstrip("/") == "/url":
        real = (title or "").strip()
        if not real.lower().startswith(("http://", "https://")):
            real = parse_qs(parts.query).get("url", [""])[0]
            real = re.sub(r":[A-Za-z0-9_-]{10,}$", "", real)
        href = real
    if not href.lower().startswith(("http://", "https://", "mailto:")):
        return None
    # In Markdown's (destination): no spaces, no unbalanced parentheses, no <>.
    return quote(href, safe=":/?#[]@!$&'*+,;=%~-._")


class _Converter(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[tuple[str, int, bool]] = []  # (markdown, quote depth, list item)
        self.inline: list[str] = []
        self.marks: list[tuple[str, int, str | None]] = []  # (tag, start, link target)
        self.quote = 0
        self.lists: list[list] = []  # [ordered, next number]
        self.item: str | None = None  # the marker of the list item being written
        self.dropped = 0
        self.pre: list[str] | None = None
        self.code = 0

    # structure

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in _DROPPED:
            self.dropped += 1
        if self.dropped:
            return
        if self.pre is not None:
            if tag == "br":
                self.pre.append("\n")
            return
        if tag in _BLOCKS or tag in ("blockquote", "ul", "ol", "li", "pre"):
            self._end_block()
        if tag == "br":
            self.inline.append("\n")
        elif tag == "blockquote":
            self.quote += 1
        elif tag in ("ul", "ol"):
            self.lists.append([tag == "ol", 1])
        elif tag == "li":
            ordered, number = self.lists[-1] if self.lists else (False, 1)
            if ordered:
                self.lists[-1][1] += 1
            self.item = f"{number}. " if ordered else "- "
        elif tag == "pre":
            self.pre = []
        elif tag in _EMPHASIS or tag == "code":
            self.code += tag == "code"
            self.marks.append((tag, len(self.inline), None))
        elif tag == "a":
            target = _link_target(attrs.get("href"), attrs.get("title"))
            self.marks.append(("a", len(self.inline), target))
        elif tag == "span" and "spoiler" in (attrs.get("class") or "").split():
            self.marks.append(("spoiler", len(self.inline), None))
        elif tag == "img":
            src = _link_target(attrs.get("src"), None)
            if src:
                alt = " ".join((attrs.get("alt") or "").split()) or "image"
                self.inline.append(f"[{_escape(alt)}]({src})")

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in ("br", "img", "hr"):
            self.handle_endtag(tag)

    def handle_endtag(self, tag):
        if tag in _DROPPED:
            self.dropped = max(0, self.dropped - 1)
            return
        if self.dropped:
            return
        if tag == "pre" and self.pre is not None:
            text = "".join(self.pre).strip("\n")
            self.pre = None
            fence = "`" * max(3, _longest_run(text, "`") + 1)
            self.blocks.append((f"{fence}\n{text}\n{fence}", self.quote, False))
            return
        if self.pre is not None:
            return
        if tag in _BLOCKS or tag in ("li", "ul", "ol", "blockquote"):
            self._end_block()
        if tag == "blockquote":
            self.quote = max(0, self.quote - 1)
        elif tag in ("ul", "ol") and self.lists:
            self.lists.pop()
        elif tag in _EMPHASIS or tag in ("a", "code", "span"):
            self._close_mark(tag)

    def _close_mark(self, tag: str) -> None:
        wanted = "spoiler" if tag == "span" else tag
        for index in range(len(self.marks) - 1, -1, -1):
            if self.marks[index][0] == wanted:
                break
        else:
            return  # a stray end tag (or a span that was no spoiler)
        name, start, target = self.marks.pop(index)
        del self.marks[index:]  # marks left open inside it end with it
        content = "".join(self.inline[start:])
        del self.inline[start:]
        core = content.strip()
        lead = content[: len(content) - len(content.lstrip())]
        trail = content[len(content.rstrip()) :]
        if name == "code":
            self.code -= 1
            if core:
                ticks = "`" * (_longest_run(core, "`") + 1)
                pad = " " if core.startswith("`") or core.endswith("`") else ""
                core = f"{ticks}{pad}{core}{pad}{ticks}"
        elif name == "a":
            if target and core:
                core = f"[{core}]({target})"
            elif target:
                core = f"[{_escape(target)}]({target})"
        elif core and name == "spoiler":
            core = f"||{core}||"
        elif core:
            marker = _EMPHASIS[name]
            core = f"{marker}{core}{marker}"
        self.inline.append(f"{lead}{core}{trail}")

    # text

    def handle_data(self, data):
        if self.dropped:
            return
        if self.pre is not None:
            self.pre.append(data)
            return
        text = re.sub(r"\s+", " ", data)
        self.inline.append(text if self.code else _escape(text))

    def _end_block(self) -> None:
        while self.marks:  # close whatever the block left open
            self._close_mark(self.marks[-1][0] if self.marks[-1][0] != "spoiler" else "span")
        text = "".join(self.inline)
        self.inline = []
        lines = [line.strip() for line in text.split("\n")]
        lines = [_LINE_START.sub(_escape_line_start, line) for line in lines]
        text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip("\n")
        if not text:
            return
        if self.item is not None:
            indent = "  " * (len(self.lists) - 1)
            pad = " " * len(self.item)
            text = indent + self.item + text.replace("\n", "\n" + indent + pad)
            self.item = None
            self.blocks.append((text, self.quote, True))
        else:
            self.blocks.append((text, self.quote, False))

    def result(self) -> str:
        self._end_block()
        if self.pre is not None:
            self.handle_endtag("pre")
        out = []
        previous = None
        for text, depth, item in self.blocks:
            if depth:
                text = "\n".join(("> " * depth + line).rstrip() for line in text.split("\n"))
            if previous is not None:
                prev_depth, prev_item = previous
                if item and prev_item and depth == prev_depth:
                    out.append("\n")  # items of one list
                else:
                    out.append("\n" + ">" * min(depth, prev_depth) + "\n")
            out.append(text)
            previous = (depth, item)
        return "".join(out)


def _escape_line_start(match: re.Match) -> str:
    # "1. " or "- " at the start of a line would become a list; "#", "=" a heading.
    if match.group(1):
        return f"{match.group(1)}\\{match.group(2)}"
    return "\\" + match.group(3)


def _longest_run(text: str, char: str) -> int:
    runs = re.findall(re.escape(char) + "+", text)
    return max(map(len, runs), default=0)
