"""One set of rules for web addresses (forum/addresses.py), and every place that
keeps an address a person typed or an archive carried holds to it."""

import pytest

from forum import addresses
from forum.errors import ValidationError
from forum.extensions import db
from forum.models import Comment, Role, User
from forum.ops.imports import thread_store
from forum.services import settings
from forum.services.discussion import thread_admin, threads
from forum.services.moderation import decisions

GOOD = [
    "https://news.example/2026/12/a-story",
    "http://127.0.0.1:8000/page?x=1#c2",
    "https://[2001:db8::1]/about",
    "HTTPS://News.Example/Path",
    "https://bücher.example/seite",
    # Invisible but not white space: kept as written (a browser percent-encodes it).
    "https://news.example/\u200bzero-width",
]
BAD = [
    "http://",  # no host: the moderators' link once took it
    "https://",
    "https:///path-only",
    "ftp://files.example/a",
    "javascript:alert(1)",
    "//news.example/no-scheme",
    "/a/path",
    "news.example",
    "https://news.example:port/",
    "https://[news.example/",
    "https://news.example/a b",
    "https://news.example/\ttab",
    "https://news.example/\x00nul",
    "https://news.example/\x85next-line",
    "https://news.example/\u2028line-separator",
    "https://news.example/" + "a" * 2000,
    "",
]


@pytest.mark.parametrize("address", GOOD)
def test_good_addresses_pass_unchanged(address):
    assert addresses.web_address(address) == address
    assert addresses.origin_of(address) is not None


@pytest.mark.parametrize("address", BAD)
def test_bad_addresses_are_refused(address):
    assert addresses.web_address(address) is None
    assert not addresses.is_web_address(address)


@pytest.mark.parametrize("address", GOOD + BAD)
def test_every_keeper_of_an_address_agrees(app, make, address):
    """The moderator's link, the hook URL, a thread's page and an imported page
    accept exactly the addresses web_address() accepts."""
    expected = addresses.is_web_address(address)
    admin_id = make.user("ada", role=Role.ADMIN).id
    make.article("a-story")
    comment_id = make.comment(make.user("alice"), "a-story", "Words")
    with app.app_context():
        admin, comment = db.session.get(User, admin_id), db.session.get(Comment, comment_id)
        thread = threads.thread_by_key("a-story")

        def accepted(field: str, call) -> bool:
            try:
                with db.session.begin_nested():
                    call()
            except ValidationError as error:
                return field not in error.fields
            return True

        link = accepted(
            "link", lambda: decisions.act(admin, comment, "reject", reason="x", link=address)
        )
        hook = accepted("hook_url", lambda: settings.parse({"hook_url": address}))
        page = accepted(
            "url", lambda: thread_admin.rename_thread(admin, thread, "A story", address)
        )
        imported = thread_store.clean_url(address) == address
        if address:  # empty means "none" where a field is optional
            assert (link, hook, page, imported) == (expected,) * 4, address


@pytest.mark.parametrize(
    ("raw", "origin"),
    [
        ("HTTPS://News.Example:443/", "https://news.example"),
        ("http://127.0.0.1:8001", "http://127.0.0.1:8001"),
        ("https://[2001:DB8::1]:8443", "https://[2001:db8::1]:8443"),
        ("https://news.example/path", None),
        ("https://user:pw@news.example", None),
        ("https://news.example?x", None),
        ("http://", None),
    ],
)
def test_origins(raw, origin):
    assert addresses.normalize_origin(raw) == origin


def test_a_page_belongs_to_one_origin():
    assert addresses.page_address("https://news.example/a", "https://news.example")
    assert addresses.page_address("https://news.example/a", "https://other.example") is None
    assert addresses.page_address("https://news.example/a b", "https://news.example") is None


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/articles/a", "/articles/a"),
        ("//evil.example/", "/"),
        ("/\\evil.example", "/"),
        ("https://evil.example/", "/"),
        ("/a\nb", "/"),
        (None, "/"),
    ],
)
def test_local_paths_only(target, expected):
    assert addresses.local_path(target) == expected
