"""Every shipped catalog is whole: each string the code marks today is translated,
none is fuzzy, and every translation keeps its source's placeholders and tags.

The strings are extracted afresh (as `make messages` does), so a string marked in
a template but never added to the catalogs fails here, not in front of a reader."""

from __future__ import annotations

from collections import Counter

import pytest
from babel.messages.pofile import read_po

from forum import i18n
from tests import catalogs

SHIPPED = catalogs.shipped_catalogs()
# At least these (CONTRACT.md §6, and issue 15).
REQUIRED = {"es", "fr", "de", "pt-BR", "it", "ja", "ar", "he"}


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    return catalogs.extract(tmp_path_factory.mktemp("pot"))


def test_the_promised_locales_ship():
    assert set(SHIPPED) >= REQUIRED
    assert i18n.catalogued()[0] == "en"
    assert set(i18n.catalogued()) == {"en", *SHIPPED}


def read(tag):
    with SHIPPED[tag].open("rb") as file:
        return read_po(file, locale=tag.replace("-", "_"))


def forms_of(message) -> list[str]:
    return list(message.string) if isinstance(message.string, tuple | list) else [message.string]


def ids_of(message) -> list[str]:
    return list(message.id) if isinstance(message.id, tuple | list) else [message.id]


@pytest.mark.parametrize("tag", sorted(SHIPPED))
def test_every_marked_string_is_translated_and_none_is_fuzzy(tag, template):
    catalog = read(tag)
    missing, fuzzy, empty = [], [], []
    for source in template:
        if not source.id:
            continue
        message = catalog.get(source.id, context=source.context)
        if message is None:
            missing.append(ids_of(source)[0])
        elif message.fuzzy:
            fuzzy.append(ids_of(source)[0])
        elif not all(form.strip() for form in forms_of(message)):
            empty.append(ids_of(source)[0])
    assert not missing, f"{tag}: not in the catalog (run make messages): {missing[:20]}"
    assert not fuzzy, f"{tag}: fuzzy: {fuzzy[:20]}"
    assert not empty, f"{tag}: untranslated: {empty[:20]}"


@pytest.mark.parametrize("tag", sorted(SHIPPED))
def test_translations_keep_their_placeholders_and_tags(tag):
    catalog = read(tag)
    wrong = []
    for message in catalog:
        if not message.id or not message.string:
            continue
        ids = ids_of(message)
        wanted = set(catalogs.PLACEHOLDER.findall(ids[-1]))
        tags = Counter(catalogs.TAG.findall(ids[-1]))
        for form in forms_of(message):
            have = set(catalogs.PLACEHOLDER.findall(form))
            # A plural form may say its number in words ("one comment"), so
            # %(num)s may be left out; every other placeholder must stay, and
            # none may be made up (it would raise KeyError at runtime).
            if not have <= wanted or (wanted - {"num"}) - have:
                wrong.append((ids[0], form))
            if Counter(catalogs.TAG.findall(form)) != tags:
                wrong.append((ids[0], form))
    assert not wrong, f"{tag}: placeholders or tags differ: {wrong[:10]}"


@pytest.mark.parametrize("tag", sorted(SHIPPED))
def test_the_header_says_the_language_and_its_plural_rule(tag):
    catalog = read(tag)
    assert str(catalog.locale).replace("_", "-") == tag
    assert catalog.num_plurals >= 1
    assert catalog.plural_expr
