"""Names compared as a reader would read them (forum.markup.name_key), and the
proof of work's bit counting (forum.services.accounts.proof)."""

import hashlib

import pytest

from forum.markup import name_key
from forum.services.accounts.proof import leading_zero_bits


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("Ada Lovelace", "ada_lovelace"),
        ("Zoë", "ZOE"),
        ("A.D.A.", "ada"),  # punctuation goes
        ("L1ly", "Lily"),
        ("5am", "Sam"),
        ("ｆｕｌｌｗｉｄｔｈ", "fullwidth"),  # NFKD folds compatibility forms
        ("Ünïcödé", "unicode"),
    ],
)
def test_look_alike_names_share_a_key(one, other):
    assert name_key(one) == name_key(other)


@pytest.mark.parametrize(("one", "other"), [("Ada", "Adam"), ("李小龍", "李小龙"), ("Ana", "Anna")])
def test_different_names_keep_different_keys(one, other):
    assert name_key(one) != name_key(other)


def test_scripts_other_than_latin_keep_their_letters_but_not_their_disguises():
    assert name_key("محمد") == "محمد"
    assert name_key("Σοφία") == "σoφla"  # ο and ι are drawn like o and i
    # Cyrillic and Greek letters drawn like Latin ones, and Latin variants.
    for disguised in ("Аlice", "Alicе", "ɑlice", "ALICE", "A1ice", "Αlice"):
        assert name_key(disguised) == name_key("alice"), disguised
    assert name_key("jаnemod") == name_key("janemod")
    assert name_key("rnary") == name_key("mary")


@pytest.mark.parametrize(
    ("digest", "bits"),
    [(b"\x00\x00\xff", 16), (b"\x00\x01", 15), (b"\x80", 0), (b"\x0f", 4), (b"\x00" * 4, 32)],
)
def test_leading_zero_bits(digest, bits):
    assert leading_zero_bits(digest) == bits


def test_a_solved_nonce_meets_the_difficulty():
    challenge, bits = "test-challenge", 10
    nonce = next(
        n
        for n in range(1 << 20)
        if leading_zero_bits(hashlib.sha256(f"{challenge}:{n}".encode()).digest()) >= bits
    )
    digest = hashlib.sha256(f"{challenge}:{nonce}".encode()).digest()
    assert int.from_bytes(digest, "big") >> (256 - bits) == 0
