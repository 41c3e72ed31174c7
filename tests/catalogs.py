"""The translatable strings as the code has them now, and a pseudo-locale built
from them: what tests/unit/test_catalogs.py and tests/views/test_pseudo_locale.py
check the shipped catalogs and the pages against.

Extraction runs pybabel with babel.cfg and the Makefile's own keywords, so the
tests see exactly what `make messages` would write."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "forum" / "translations"
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")
TAG = re.compile(r"</?([a-zA-Z][\w-]*)")

# Letters that read as the English ones, so a pseudo-translated page stays
# readable while every ASCII letter left on it is one that escaped translation.
ACCENTED = str.maketrans(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ",
    "áƀçđéƒĝĥíĵķĺɱñóþǫŕšţúṽŵẋýžÁƁÇĐÉƑĜĤÍĴĶĹṀÑÓṔǪŔŠŢÚṼŴẊÝŽ",
)
# Placeholders, tags, entities and %% stay as they are.
_KEEP = re.compile(r"%\(\w+\)[sd]|%%|<[^>]*>|&#?\w+;")


def keywords() -> list[str]:
    """The Makefile's BABEL_KEYWORDS, as pybabel arguments."""
    makefile = (ROOT / "Makefile").read_text()
    line = re.search(r"^BABEL_KEYWORDS := (.*)$", makefile, re.M)
    return line.group(1).split()


def extract(into: Path) -> Catalog:
    """Every marked string in forum/, templates/ and static/, freshly extracted."""
    pot = into / "messages.pot"
    subprocess.run(
        [sys.executable, "-c", "from babel.messages.frontend import main; main()"]
        + [
            "extract",
            "-F",
            "babel.cfg",
            *keywords(),
            "-o",
            str(pot),
            "forum",
            "templates",
            "static",
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    with pot.open("rb") as file:
        return read_po(file)


def pseudo(text: str) -> str:
    """ "Reply to %(name)s" -> "⟦Ŕéþĺý ţó %(name)s⟧"."""
    out, last = [], 0
    for match in _KEEP.finditer(text):
        out.append(text[last : match.start()].translate(ACCENTED))
        out.append(match.group(0))
        last = match.end()
    out.append(text[last:].translate(ACCENTED))
    return "⟦" + "".join(out) + "⟧"


def pseudo_catalog(template: Catalog, locale: str, directory: Path) -> Path:
    """A compiled catalog for locale (under directory/<locale>/LC_MESSAGES/)
    with every message pseudo-translated."""
    catalog = Catalog(locale=locale)
    for message in template:
        if not message.id:
            continue
        if isinstance(message.id, tuple | list):
            forms = [pseudo(message.id[0])] + [pseudo(message.id[1])] * (catalog.num_plurals - 1)
            catalog.add(message.id, forms, context=message.context)
        else:
            catalog.add(message.id, pseudo(message.id), context=message.context)
    target = directory / locale / "LC_MESSAGES"
    target.mkdir(parents=True, exist_ok=True)
    with (target / "messages.mo").open("wb") as file:
        write_mo(file, catalog)
    return directory


def shipped_catalogs() -> dict[str, Path]:
    """locale tag -> its messages.po, for every catalog in forum/translations."""
    return {
        path.parent.parent.name.replace("_", "-"): path
        for path in sorted(TRANSLATIONS.glob("*/LC_MESSAGES/messages.po"))
    }
