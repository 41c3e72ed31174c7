"""Which shipped locale a request is served in (forum.i18n.choose): the reader's
own choice, else ?lang=, else the remembered one, else Accept-Language, else English."""

import pytest
from werkzeug.datastructures import LanguageAccept

from forum.i18n import DEFAULT, catalogued, choose

SHIPPED = ["en", "ar", "es", "pt-BR"]


def accept(*pairs):
    return LanguageAccept(list(pairs))


@pytest.mark.parametrize(
    ("requested", "remembered", "header", "own", "expected"),
    [
        (None, None, accept(), None, "en"),
        (None, None, accept(("es-MX", 1), ("en", 0.5)), None, "es"),
        (None, None, accept(("pt-br", 1)), None, "pt-BR"),
        (None, None, accept(("ja", 1), ("ar", 0.3)), None, "ar"),
        (None, None, accept(("ja", 1)), None, DEFAULT),
        ("ar", None, accept(("es", 1)), None, "ar"),
        ("AR", None, accept(), None, "ar"),
        (None, "es", accept(("ar", 1)), None, "es"),
        ("ar", "es", accept(), None, "ar"),
        ("xx", "es", accept(("ar", 1)), None, "es"),  # a made-up one is ignored
        ("xx", "<script>", accept(), None, "en"),
        ("es", "ar", accept(("ar", 1)), "pt-br", "pt-BR"),  # the reader's own first
    ],
)
def test_the_locale_is_chosen_in_order(requested, remembered, header, own, expected):
    assert choose(requested, remembered, header, SHIPPED, own=own) == expected


def test_catalogued_locales_are_the_catalog_folders(tmp_path):
    for name in ("ar", "pt_BR", "es"):
        (tmp_path / name / "LC_MESSAGES").mkdir(parents=True)
        (tmp_path / name / "LC_MESSAGES" / "messages.po").write_text("")
    (tmp_path / "de").mkdir()  # no catalog: not shipped
    assert catalogued(tmp_path) == ["en", "ar", "es", "pt-BR"]


def test_forum_locales_from_the_environment_keeps_only_shipped_ones():
    from forum.i18n import configured

    available = ["en", "ar", "es", "pt-BR"]
    assert configured(None, available) == available
    assert configured("", available) == available
    assert configured("es pt_br, xx ar", available) == ["en", "es", "pt-BR", "ar"]
    assert configured("de", available) == ["en"]
