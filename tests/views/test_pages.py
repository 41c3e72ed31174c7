"""The reading and writing pages through the test client (no JavaScript)."""

import re
from datetime import timedelta

from forum.extensions import db
from forum.models import Comment, CommentStatus, User
from forum.services.discussion import comments as comment_service
from forum.services.discussion import threads
from tests.conftest import token_for


def html(response):
    return response.get_data(as_text=True)


def comment_ids(page: str) -> list[int]:
    return [int(n) for n in re.findall(r'<article id="c(\d+)"', page)]


def test_index_lists_articles_newest_first_with_counts(client, make, reader):
    make.article("older", "The older one")
    make.article("newer", "The newer one")
    make.comment(reader, "older", "one")
    make.comment(reader, "older", "two")
    page = html(client.get("/"))
    assert page.index("The newer one") < page.index("The older one")
    assert "2 comments" in page and "0 comments" in page


def test_article_page_shows_article_and_thread(client, make, reader):
    make.article("a-story", "A story")
    root = make.comment(reader, "a-story", "Top **level**")
    make.comment(reader, "a-story", "A reply", parent_id=root)
    page = html(client.get("/articles/a-story"))
    assert '<h1 dir="auto">A story</h1>' in page
    assert "Top <strong>level</strong>" in page
    assert comment_ids(page) == [root, root + 1]
    assert 'class="comments replies"' in page
    assert "Log in</a> or <a" in page  # anonymous: an invitation, no form
    assert 'id="new-comment"' not in page


def test_unknown_article_is_a_404_page(client):
    response = client.get("/articles/no-such-thing")
    assert response.status_code == 404
    assert "Not found" in html(response)


def test_post_comment_through_the_form(reader_client, article):
    response = reader_client.post("/articles/a-story/comments", data={"body": "From the *form*"})
    assert response.status_code == 302
    assert re.fullmatch(r"/articles/a-story\?comment=\d+#c\d+", response.headers["Location"])
    page = html(reader_client.get(response.headers["Location"]))
    assert "From the <em>form</em>" in page
    assert "Your comment is up." in page


def test_post_reply_through_the_reply_page(reader_client, make, reader, article):
    parent = make.comment(reader, "a-story", "parent words")
    form = html(reader_client.get(f"/comments/{parent}/reply"))
    assert "parent words" in form and f'value="{parent}"' in form
    response = reader_client.post(
        "/articles/a-story/comments", data={"body": "child words", "parent_id": str(parent)}
    )
    assert response.status_code == 302
    child = make.get(Comment, parent + 1)
    assert child.parent_id == parent and child.depth == 1


def test_post_errors_are_shown_and_nothing_saved(reader_client, make, article):
    response = reader_client.post("/articles/a-story/comments", data={"body": "   "})
    assert response.status_code == 422
    assert "Write something first." in html(response)
    response = reader_client.post("/articles/a-story/comments", data={"body": "x" * 10_001})
    assert response.status_code == 422
    assert "Keep it to 10,000 characters at most" in html(response)
    response = reader_client.post(
        "/articles/a-story/comments", data={"body": "ok", "parent_id": "12345"}
    )
    assert response.status_code == 422
    assert make.get(Comment, 1) is None


def test_anonymous_post_redirects_to_login(client, article):
    response = client.post("/articles/a-story/comments", data={"body": "hi"})
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/auth/login?next=")


def test_fragment_post_returns_the_comment_html(reader_client, article):
    response = reader_client.post(
        "/articles/a-story/comments", data={"body": "quick"}, headers={"X-Forum-Fragment": "1"}
    )
    assert response.status_code == 201
    assert '<li class="comment-item">' in html(response)
    assert response.headers["X-Forum-Comment-Count"] == "1"
    assert "<p>quick</p>" in html(response)
    bad = reader_client.post(
        "/articles/a-story/comments", data={"body": ""}, headers={"X-Forum-Fragment": "1"}
    )
    assert bad.status_code == 422
    assert bad.json["error"]["message"] == "Write something first."


def test_deep_replies_indent_six_levels_then_continue_flat_with_cue(client, make, reader, article):
    ids = [make.comment(reader, "a-story", "level 0")]
    for level in range(1, 9):
        ids.append(make.comment(reader, "a-story", f"level {level}", parent_id=ids[-1]))
    page = html(client.get("/articles/a-story"))
    assert comment_ids(page) == ids
    depths = [int(d) for d in re.findall(r'data-depth="(\d+)"', page)]
    assert max(depths) == 6
    assert page.count('class="comments replies"') == 5  # levels 1-5 nest
    assert 'class="comments replies flat"' in page
    assert page.count("replying to @alice") == 3  # levels 6, 7, 8


def test_sorting_links(client, make, reader, app):
    make.article("a-story")
    a = make.comment(reader, "a-story", "first", age=timedelta(minutes=3))
    b = make.comment(reader, "a-story", "second", age=timedelta(minutes=2))
    make.vote(make.user("fan"), b, 1)
    assert comment_ids(html(client.get("/articles/a-story")))[:2] == [a, b]
    assert comment_ids(html(client.get("/articles/a-story?sort=newest")))[:2] == [b, a]
    assert comment_ids(html(client.get("/articles/a-story?sort=top")))[:2] == [b, a]
    page = html(client.get("/articles/a-story?sort=top"))
    assert re.search(r'sort=top#discussion" aria-current="true"', page)
    # An unknown sort falls back rather than failing.
    assert client.get("/articles/a-story?sort=sideways").status_code == 400


def test_load_more_without_javascript(client, make, reader, app):
    app.config["FORUM_PAGE_SIZE"] = 3
    make.article("a-story")
    ids = [
        make.comment(reader, "a-story", f"c{i}", age=timedelta(minutes=10 - i)) for i in range(7)
    ]
    first = html(client.get("/articles/a-story"))
    assert comment_ids(first) == ids[:3]
    link = re.search(r'class="load-more button" href="([^"]+)"', first).group(1)
    second = html(client.get(link.replace("&amp;", "&")))
    assert comment_ids(second) == ids[3:6]
    assert "Back to the first page" in second
    fragment_url = re.search(r'data-fragment="([^"]+)"', first).group(1).replace("&amp;", "&")
    fragment = html(client.get(fragment_url))
    assert comment_ids(fragment) == ids[3:6]
    assert "<html" not in fragment


def test_bad_cursor_on_page_leads_to_the_first_page(client, make, reader, article):
    cid = make.comment(reader, "a-story", "hello")
    response = client.get("/articles/a-story?cursor=garbage&sort=newest")
    assert response.status_code == 302
    assert response.headers["Location"] == "/articles/a-story?sort=newest"
    assert comment_ids(html(client.get(response.headers["Location"]))) == [cid]
    assert client.get("/articles/a-story/comments?cursor=garbage").status_code == 422


def test_permalink_shows_the_conversation_of_a_later_comment(client, make, reader, app):
    app.config["FORUM_PAGE_SIZE"] = 2
    make.article("a-story")
    ids = [
        make.comment(reader, "a-story", f"c{i}", age=timedelta(minutes=10 - i)) for i in range(5)
    ]
    reply = make.comment(reader, "a-story", "deep link target", parent_id=ids[4])
    response = client.get(f"/comments/{reply}")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/articles/a-story?comment={reply}#c{reply}"
    page = html(client.get(f"/articles/a-story?comment={reply}"))
    assert f'id="c{reply}"' in page and f'id="c{ids[4]}"' in page
    assert comment_ids(page) == [ids[4], reply]
    assert "You are looking at one conversation." in page
    assert client.get("/comments/999999").status_code == 404


def test_permalink_to_a_vanished_comment_says_so(client, make, reader, article):
    kept = make.comment(reader, "a-story", "still here")
    gone = make.comment(reader, "a-story", "gone soon")
    make.set_status(gone, CommentStatus.DELETED)
    for value in (str(gone), "999999", "²", "abc", "-1"):
        response = client.get(f"/articles/a-story?comment={value}")
        assert response.status_code == 200, value
        page = html(response)
        assert "That comment is not here any more" in page
        assert comment_ids(page) == [kept]


def test_edit_flow(reader_client, make, reader, article):
    cid = make.comment(reader, "a-story", "tpyo")
    page = html(reader_client.get("/articles/a-story"))
    assert f'href="/comments/{cid}/edit"' in page
    assert "tpyo</textarea>" in html(reader_client.get(f"/comments/{cid}/edit"))
    response = reader_client.post(f"/comments/{cid}/edit", data={"body": "typo"})
    assert response.status_code == 302
    page = html(reader_client.get("/articles/a-story"))
    assert "<p>typo</p>" in page and 'class="edited"' in page and ">edited</time>" in page
    assert reader_client.post(f"/comments/{cid}/edit", data={"body": ""}).status_code == 422


def test_edit_window_closes(reader_client, make, reader, article):
    cid = make.comment(reader, "a-story", "too late", age=timedelta(minutes=15, seconds=5))
    assert f'/comments/{cid}/edit"' not in html(reader_client.get("/articles/a-story"))
    assert reader_client.get(f"/comments/{cid}/edit").status_code == 403
    assert reader_client.post(f"/comments/{cid}/edit", data={"body": "x"}).status_code == 403


def test_others_cannot_edit_or_delete(client, make, auth, article):
    owner = make.user("owner")
    make.user("intruder")
    cid = make.comment(owner, "a-story", "mine")
    auth.login("intruder")
    page = html(client.get("/articles/a-story"))
    assert f"/comments/{cid}/edit" not in page and f"/comments/{cid}/delete" not in page
    assert client.get(f"/comments/{cid}/edit").status_code == 403
    assert client.post(f"/comments/{cid}/delete").status_code == 403
    assert make.get(Comment, cid).status == CommentStatus.APPROVED


def test_delete_flow_leaves_tombstone(reader_client, make, reader, article):
    bob = make.user("bob")
    cid = make.comment(reader, "a-story", "regrettable")
    make.comment(bob, "a-story", "an answer", parent_id=cid)
    assert "Delete this comment?" in html(reader_client.get(f"/comments/{cid}/delete"))
    response = reader_client.post(f"/comments/{cid}/delete")
    assert response.status_code == 302
    page = html(reader_client.get("/articles/a-story"))
    assert "regrettable" not in page
    assert "[deleted]" in page and "an answer" in page
    assert "(1 comment)" in page


def test_moderator_can_delete_any_comment(moderator_client, make, reader, article):
    cid = make.comment(reader, "a-story", "rude")
    assert f"/comments/{cid}/delete" in html(moderator_client.get("/articles/a-story"))
    assert moderator_client.post(f"/comments/{cid}/delete").status_code == 302
    assert make.get(Comment, cid).status == CommentStatus.DELETED


def test_pending_comment_shown_to_author_only(app, make, client, auth):
    app.config["FORUM_MODERATION"] = "pre"
    make.article("a-story")
    make.user("writer")
    make.user("other")
    auth.login("writer")
    response = client.post("/articles/a-story/comments", data={"body": "in the queue"})
    page = html(client.get(response.headers["Location"]))
    assert "awaiting moderation" in page and "in the queue" in page
    auth.logout()
    auth.login("other")
    assert "in the queue" not in html(client.get("/articles/a-story"))
    auth.logout()
    assert "in the queue" not in html(client.get("/articles/a-story"))
    assert "0 comments" in html(client.get("/"))


def test_user_text_is_escaped_everywhere(client, make, app):
    make.article("a-story")
    user = make.user("sneaky")
    with app.app_context():
        db.session.get(User, user.id).display_name = "<script>alert(1)</script>"
        db.session.commit()
    cid = make.comment(user, "a-story", "<img src=x onerror=alert(1)>")
    page = html(client.get("/articles/a-story"))
    assert "<script>alert(1)" not in page
    assert "<img src=x" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert f'id="c{cid}"' in page


def test_security_headers(client):
    response = client.get("/")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "<script>" not in html(response)  # no inline script anywhere


def test_a_hundred_levels_deep_still_renders_and_deeper_is_refused(client, make, reader, app):
    make.article("a-story")
    with app.app_context():
        thread = threads.thread_by_key("a-story")
        parent = None
        for level in range(comment_service.DEPTH_MAX + 1):
            parent = comment_service.add_comment(
                thread, None, parent, f"level {level}", CommentStatus.APPROVED
            )
        db.session.commit()
        deepest = parent.id
    assert client.get("/articles/a-story").status_code == 200
    api = client.get("/api/v1/threads/a-story/comments")
    assert api.status_code == 200
    headers = {"Authorization": f"Bearer {token_for(client, 'alice')}"}
    response = client.post(
        "/api/v1/threads/a-story/comments",
        json={"body": "one more", "parent_id": deepest},
        headers=headers,
    )
    assert response.status_code == 422
    assert "as deep as it goes" in response.json["error"]["fields"]["parent_id"]


def test_vote_buttons_without_javascript(reader_client, make, article):
    other = make.user("other")
    cid = make.comment(other, "a-story", "vote for me")
    page = html(reader_client.get("/articles/a-story"))
    assert f'action="/comments/{cid}/vote"' in page and 'aria-pressed="false"' in page
    response = reader_client.post(f"/comments/{cid}/vote", data={"value": "1"})
    assert response.status_code == 302
    page = html(reader_client.get("/articles/a-story"))
    assert 'class="vote-up" aria-pressed="true"' in page
    assert '<span class="score" aria-label="Score">1</span>' in page
    # Pressing it again takes the vote back.
    assert 'name="value" value="0" class="vote-up"' in page
    fragment = reader_client.post(
        f"/comments/{cid}/vote", data={"value": "0"}, headers={"X-Forum-Fragment": "1"}
    )
    assert fragment.json == {"score": 0, "my_vote": 0}
    assert reader_client.post(f"/comments/{cid}/vote", data={"value": "7"}).status_code == 422
    own = make.comment(make.get(User, 1), "a-story", "mine")
    assert f'action="/comments/{own}/vote"' not in html(reader_client.get("/articles/a-story"))


def test_the_theory_title_box_takes_what_the_server_accepts(reader_client, article):
    low, high = comment_service.THEORY_TITLE
    page = html(reader_client.get("/articles/a-story"))
    assert re.search(rf'<input[^>]*maxlength="{high}"[^>]*name="theory_title"', page)
    assert f"{low} to {high} characters" in page


def test_every_page_describes_itself_and_an_article_by_its_summary(client, make):
    make.article("described", title="The ferry", summary="Who was on the last ferry?")
    make.article("undescribed", title="The tide")
    description = re.compile(r'<meta name="description" content="([^"]+)">')
    assert (
        description.search(client.get("/").get_data(as_text=True))
        .group(1)
        .startswith("Reader comments and speculation")
    )
    page = client.get("/articles/described").get_data(as_text=True)
    assert description.search(page).group(1) == "Who was on the last ferry?"
    page = client.get("/articles/undescribed").get_data(as_text=True)
    assert "The tide" in description.search(page).group(1)
