"""Links and challenges that work once (forum.services.single_use), on a real database."""

from datetime import timedelta

from sqlalchemy import func, select

from forum.extensions import db
from forum.models import SpentToken, utcnow
from forum.services import single_use


def test_a_token_is_spent_once_per_purpose(ctx):
    later = utcnow() + timedelta(minutes=15)
    assert single_use.spend("sign-in", "abc", later)
    assert not single_use.spend("sign-in", "abc", later)
    assert single_use.is_spent("sign-in", "abc")
    assert single_use.spend("guest-proof", "abc", later)  # another purpose, another use
    db.session.commit()


def test_records_past_their_use_are_forgotten_now_and_then(ctx):
    past, later = utcnow() - timedelta(minutes=1), utcnow() + timedelta(minutes=15)
    for n in range(single_use.FORGET_EVERY - 1):
        single_use.spend("old", f"spent-{n}", past)
    live = 0
    while db.session.scalar(select(func.count(SpentToken.id)).where(SpentToken.purpose == "old")):
        assert single_use.spend("new", f"live-{live}", later)
        live += 1
        assert live <= single_use.FORGET_EVERY, "the expired records never went"
    assert single_use.is_spent("new", "live-0")  # the live ones stay
    db.session.commit()
