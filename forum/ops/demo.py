"""The demo site that `flask demo load` creates, so a new install shows a living page."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import select

from forum.extensions import db
from forum.markup import normalize
from forum.models import Article, Comment, CommentStatus, FlagReason, Role, User, utcnow
from forum.services.accounts import accounts
from forum.services.discussion import comments, threads, votes
from forum.services.moderation import flags

READERS = [
    ("harbourlight", "Ines Harbour"),
    ("tidewatcher", "Tom Okafor"),
    ("quillfeather", "Quill"),
    ("mapmaker_j", "Jun Sato"),
]
# The Spanish article's readers: publishers write in their own language, and the
# forum never translates what they or their readers write.
LECTORES = [
    ("lucia_marin", "Lucía Marín"),
    ("dflores", "Diego Flores"),
    ("tere_quinto", "Tere Quinto"),
]

WELCOME = """\
This is your forum. Every article gets a discussion underneath it, and readers
can join in with an account of their own: post a comment, reply to anyone,
and come back later to see where the conversation went.

## How it works

- Comments are written in Markdown. **Bold**, *italic*, `code`, quotes and
  lists all work; links are kept, scripts and raw HTML are not.
- Replies nest under the comment they answer, so several conversations can
  run side by side without tangling.
- You can edit a comment for a few minutes after posting it, and delete it
  whenever you like. If others have already replied, a small marker keeps the
  conversation in shape.
- Every comment has its own link: the time beside it points to exactly that
  place in the discussion, ready to share.
- If something breaks the house rules, "Report" sends it to the moderators,
  who keep things friendly from their own set of queues.

Sign up, scroll down, and say hello.
"""

LANTERN = """\
Eighteen months after the storm that closed season one, the ferry to Saltmere is
running again, and the island looks almost ordinary. Almost. The first two
episodes of *The Lantern Coast*, which we have seen ahead of the premiere, keep
the slow, salt-stung pace that won the show its devoted following, and then
spend their final ten minutes quietly pulling the floor out from under it.

## What we can say without spoiling anything

Marguerite Vance is back as the harbourmaster, now running the island council
too, and she is hiding something from the new doctor who arrived on the first
ferry. The lighthouse, dark since the storm, is lit again in the opening shot;
nobody on the island admits to lighting it. And the tide tables pinned to the
pub wall have been quietly changed. Twice.

The writers have promised that every mystery opened this season closes by the
finale. Showrunner Delia Frost told us the answers "are all on screen in
episode one, if you know where to look."

## Your turn

So: who lit the lighthouse? Why would anyone rewrite a tide table? And is the
new doctor really who she says she is? Share your theories below. We will
revisit this thread after the finale and see who called it.
"""


RELOJ = """\
La tercera temporada de *El reloj de Cádiz* se estrena el jueves, y hemos visto
los dos primeros capítulos. La serie sigue fiel a sí misma: calles estrechas,
mucho viento de levante y una familia de relojeros que guarda más secretos que
engranajes.

## Lo que podemos contar sin destripar nada

Amparo Lobato ha vuelto al taller de la calle Sopranis después de diez años
fuera, y lo primero que hace es parar el reloj de la torre. No explica por qué.
Su sobrino Julián, que se ha quedado con el negocio, encuentra en el sótano una
caja de cartas sin abrir, todas con el mismo matasellos de 1987.

Los guionistas prometen que el misterio de la torre se resuelve en esta temporada,
y que la primera pista aparece en los cinco primeros minutos.

## Os toca

¿Por qué paró Amparo el reloj? ¿Quién escribió esas cartas y por qué nadie las
abrió? Dejad vuestras teorías abajo: volveremos a este hilo después del final
para ver quién acertó.
"""


MODERATOR = "demo_moderator"


def load(now: datetime | None = None) -> bool:
    """Create the demo articles, readers and discussions; False if already there.
    The Spanish article and the moderators' share join a demo loaded before they
    existed."""
    now = now or utcnow()
    added = _load_spanish(now)
    if db.session.scalar(select(Article.id).where(Article.slug == "welcome-to-the-forum")):
        return added
    readers = {username: _reader(username, name) for username, name in READERS}

    welcome = threads.save_article(
        "welcome-to-the-forum",
        "Welcome to the forum",
        WELCOME,
        summary="What this place is, and how to join the conversation.",
        byline="The forum team",
        published_at=now - timedelta(days=2),
    )
    lantern = threads.save_article(
        "the-lantern-coast-season-two-first-look",
        "First look: The Lantern Coast returns, and the lighthouse is lit again",
        LANTERN,
        summary="Season two of the island mystery keeps its nerve. Tell us what you think "
        "happens next.",
        byline="Arts desk",
        published_at=now - timedelta(hours=20),
    )

    hello = _comment(
        welcome.thread,
        readers["harbourlight"],
        None,
        now - timedelta(days=1, hours=20),
        "First! Glad to see a comment section that lets replies nest properly.",
    )
    reply = _comment(
        welcome.thread,
        readers["tidewatcher"],
        hello,
        now - timedelta(days=1, hours=19),
        "Agreed. Quick test of the formatting: *italic*, **bold**, and a link to "
        "https://example.org.",
    )
    _comment(
        welcome.thread,
        readers["harbourlight"],
        reply,
        now - timedelta(days=1, hours=18),
        "Links come out clickable, nice.",
    )
    _comment(
        welcome.thread,
        readers["quillfeather"],
        None,
        now - timedelta(days=1, hours=2),
        "> Every comment has its own link\n\nThat is going to save a lot of "
        '"scroll up, no, further up" arguments.',
    )

    vance = _comment(
        lantern.thread,
        readers["mapmaker_j"],
        None,
        now - timedelta(hours=15),
        "Marguerite lit it herself. She is the only one with a key, and in the opening "
        "shot her coat is wet even though it has not rained in the scene.",
        theory_title="Marguerite lit the lighthouse",
    )
    doubt = _comment(
        lantern.thread,
        readers["tidewatcher"],
        vance,
        now - timedelta(hours=14),
        "Too obvious. The show loves pointing at her and then swerving.",
    )
    _comment(
        lantern.thread,
        readers["mapmaker_j"],
        doubt,
        now - timedelta(hours=13),
        "Season one swerved away from her three times and she *still* turned out to be "
        "hiding the ferry logs. I am staying with it.",
    )
    tides = _comment(
        lantern.thread,
        readers["quillfeather"],
        None,
        now - timedelta(hours=9),
        "The tide tables are the real story. If someone needs people to believe low "
        "tide is an hour later than it is, they want the causeway empty at a time "
        "nobody is watching.",
        theory_title="The tide tables hide a crossing",
    )
    _comment(
        lantern.thread,
        readers["harbourlight"],
        tides,
        now - timedelta(hours=8),
        "Oh, that is good. Which would explain why the doctor arrives by ferry instead "
        "of walking across like everyone did in season one.",
    )
    _comment(
        lantern.thread,
        readers["tidewatcher"],
        None,
        now - timedelta(hours=3),
        "No theories from me yet, just happy it is back. That final shot of the lamp "
        "turning was gorgeous.",
    )
    _comment(
        lantern.thread,
        readers["harbourlight"],
        tides,
        now - timedelta(hours=2),
        "Careful, those of you who have not seen the preview: the doctor's ferry ticket is "
        "dated ||the night of the storm, eighteen months ago||. Make of that what you will.",
    )
    ferry = _comment(
        lantern.thread,
        readers["quillfeather"],
        None,
        now - timedelta(hours=1),
        "Having seen the preview episodes: the person in the lighthouse in the last scene is "
        "the doctor's brother, and he never left the island after the storm.",
        theory_title="Somebody never left the island",
        spoiler=True,
    )
    # A little voting and an Editors' pick, so "Top" and the picks have something to show.
    for voter, target, value in [
        ("harbourlight", tides, 1),
        ("tidewatcher", tides, 1),
        ("mapmaker_j", tides, 1),
        ("harbourlight", vance, 1),
        ("quillfeather", vance, -1),
        ("tidewatcher", ferry, 1),
    ]:
        votes.vote(readers[voter], target, value)
    tides.featured = True

    # The welcome thread shows the same tools in a lighter key.
    _comment(
        welcome.thread,
        readers["mapmaker_j"],
        None,
        now - timedelta(hours=20),
        "Tip for everyone: wrap a twist in double bars and it stays hidden until a reader "
        "asks for it, like this: ||the butler was on holiday the whole time||.",
    )
    _comment(
        welcome.thread,
        readers["tidewatcher"],
        None,
        now - timedelta(hours=6),
        "This comment section will still be going strong when the finale airs.",
        theory_title="This thread outlives the season",
    )
    hello.featured = True
    db.session.flush()
    return True


def load_moderation(now: datetime | None = None) -> str | None:
    """A moderator account and work for it: one comment waiting in Pending and one
    reported, so the queues show what they are for.  Returns the moderator's
    password (random, made once: the operator is shown it and nobody else), or
    None if the demo moderator exists already or the demo articles do not."""
    lantern = db.session.scalar(
        select(Article).where(Article.slug == "the-lantern-coast-season-two-first-look")
    )
    if lantern is None or accounts.find_user(MODERATOR) is not None:
        return None
    now = now or utcnow()
    password = secrets.token_urlsafe(12)
    accounts.register(
        MODERATOR,
        f"{MODERATOR}@readers.example.org",
        password,
        role=Role.MODERATOR,
        display_name="Demo moderator",
    )
    readers = {username: _reader(username, name) for username, name in READERS}
    comments.add_comment(
        lantern.thread,
        readers["quillfeather"],
        None,
        normalize("Check out my channel for the full season leaked early: cheap-episodes.example"),
        CommentStatus.PENDING,
        created_at=now - timedelta(minutes=40),
    )
    rude = _comment(
        lantern.thread,
        readers["mapmaker_j"],
        None,
        now - timedelta(minutes=25),
        "Anyone who still thinks the doctor is innocent has not been paying attention. "
        "Honestly, some of you should not be allowed near a mystery.",
    )
    flags.flag(readers["tidewatcher"], rude, FlagReason.ABUSE, note="Uncalled for.")
    db.session.flush()
    return password


def _load_spanish(now: datetime) -> bool:
    """An article in Spanish with its own short discussion, so `make run` shows
    the forum around another language's content (the pages follow the reader's
    language; the article and comments stay as written)."""
    slug = "el-reloj-de-cadiz-tercera-temporada"
    if db.session.scalar(select(Article.id).where(Article.slug == slug)):
        return False
    lectores = {username: _reader(username, name) for username, name in LECTORES}
    reloj = threads.save_article(
        slug,
        "Primer vistazo: El reloj de Cádiz vuelve, y alguien lo ha parado",
        RELOJ,
        summary="La tercera temporada empieza con la torre en silencio. ¿Qué creéis que pasará?",
        byline="Sección de series",
        published_at=now - timedelta(hours=30),
    )
    amparo = _comment(
        reloj.thread,
        lectores["lucia_marin"],
        None,
        now - timedelta(hours=26),
        "Amparo paró el reloj porque marca la hora de algo que pasó en 1987. Si el reloj "
        "sigue andando, alguien del barrio se dará cuenta de que la hora no cuadra.",
        theory_title="El reloj guarda la hora del crimen",
    )
    _comment(
        reloj.thread,
        lectores["dflores"],
        amparo,
        now - timedelta(hours=24),
        "Me gusta, pero ¿entonces por qué esperó diez años para volver? Yo creo que las "
        "cartas son suyas y nunca llegó a enviarlas.",
    )
    _comment(
        reloj.thread,
        lectores["tere_quinto"],
        None,
        now - timedelta(hours=5),
        "Para quien haya visto el avance: la última carta está firmada por "
        "||el padre de Julián, que supuestamente murió en 1986||. Ahí lo dejo.",
        spoiler=True,
    )
    _comment(
        reloj.thread,
        lectores["dflores"],
        None,
        now - timedelta(hours=2),
        "Sin teorías por ahora. Solo decir que la música de la cabecera sigue siendo "
        "lo mejor de la serie.",
    )
    db.session.flush()
    return True


def _reader(username: str, display_name: str) -> User:
    existing = accounts.find_user(username)
    if existing is not None:
        return existing
    # Demo readers never sign in: their password is random and thrown away.
    return accounts.register(
        username,
        f"{username}@readers.example.org",
        secrets.token_urlsafe(24),
        display_name=display_name,
    )


def _comment(thread, author, parent, when, body, theory_title=None, spoiler=False) -> Comment:
    return comments.add_comment(
        thread,
        author,
        parent,
        normalize(body),
        CommentStatus.APPROVED,
        theory_title=theory_title,
        spoiler=spoiler,
        created_at=when,
    )
