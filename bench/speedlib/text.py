"""Reader comments that read like the real thing: speculation about a TV season.

Deterministic for a given random.Random: the same seed gives the same thread,
so our server and Isso are loaded with exactly the same text.  Bodies are
200-600 characters of Markdown (emphasis, quotes, lists, links, the odd `code`).
"""

from __future__ import annotations

import random

SHOW = "The Lantern House"
CHARACTERS = (
    "Maren",
    "Tobias",
    "the lighthouse keeper",
    "Ilse",
    "Dr. Okafor",
    "young Petra",
    "the ferryman",
    "Aunt Vida",
    "Sergeant Hale",
    "the twins",
    "Jonah",
    "the woman in the grey coat",
)
PLACES = (
    "the island",
    "the old cannery",
    "the chapel",
    "the lower tunnels",
    "the ferry dock",
    "the boarding house",
    "the cliff path",
    "the radio room",
)
THINGS = (
    "the brass key",
    "the second map",
    "the stopped clock",
    "the letters under the floor",
    "the red scarf",
    "the ledger",
    "the missing reel of film",
    "the photograph from 1974",
    "the lantern itself",
)
EPISODES = tuple(f"episode {n}" for n in range(1, 9)) + ("the premiere", "the finale")
MOMENTS = (
    "the cold open",
    "the dinner scene",
    "the last thirty seconds",
    "the flashback",
    "the storm sequence",
    "the scene on the stairs",
    "the phone call",
    "the end credits",
)
OPENERS = (
    "Okay, hear me out.",
    "I rewatched {episode} last night and",
    "Unpopular opinion:",
    "Nobody is talking about {thing}.",
    "Am I the only one who noticed {moment} in {episode}?",
    "Calling it now:",
    "Small detail, but",
    "This is going to sound mad, but",
    "Re-reading the thread, I think we all missed something.",
    "Honestly,",
    "My partner pointed this out and now I can't unsee it:",
    "Long-time lurker, first post.",
)
CLAIMS = (
    "{character} knew about {thing} all along",
    "{character} is not who {pronoun} says {pronoun} is",
    "{place} is where the whole thing started",
    "the timeline in {episode} does not add up",
    "{character} and {other} are working together",
    "{thing} points straight at {place}",
    "we are watching two timelines at once",
    "{character} dies before the finale",
    "the writers planted the answer in {moment}",
    "{character} has been lying since {episode}",
    "{thing} was swapped between {episode} and {other_episode}",
    "{place} is the same set as the one in {other_episode}, just redressed",
)
EVIDENCE = (
    "Look at {moment}: {character} {verb} before anyone says a word.",
    "In {episode} the camera lingers on {thing} for a full five seconds.",
    "Why else would {character} go back to {place} alone?",
    "The dialogue in {moment} is word for word what {other} says later.",
    "The clock behind {character} reads 4:10 in both scenes.",
    "{character} {verb} every time {thing} is mentioned.",
    "The subtitles spell a name differently in {episode}, and that can't be a typo.",
    "The score switches to the music box theme the moment {other} walks in.",
    "Count the lanterns in {moment}: there is one more than in {episode}.",
    "It is the only scene where we see {place} in daylight.",
)
VERBS = (
    "hesitates",
    "looks away",
    "goes completely still",
    "reaches for a pocket",
    "almost smiles",
    "changes the subject",
)
HEDGES = (
    "I could be wrong, obviously.",
    "Could be nothing. Probably isn't.",
    "Happy to be proven wrong next week.",
    "Either way the show is brilliant.",
    "If I'm right I want credit in this thread.",
    "The showrunner basically confirmed it in an interview.",
    "Maybe I've been staring at freeze frames for too long.",
    "I have a whole document about this, don't tempt me.",
)
REPLIES = (
    "This is a great catch.",
    "I don't buy it.",
    "Agree with most of this, except the last part.",
    "You might be onto something.",
    "Counterpoint:",
    "Ha, I thought the same thing!",
    "Respectfully, no.",
)
LINKS = (
    "https://example.org/lantern-house/s03e0{n}",
    "https://example.org/interviews/showrunner-{n}",
    "https://example.com/wiki/The_Lantern_House#Episode_{n}",
)


def _fill(rng: random.Random, template: str) -> str:
    character, other = rng.sample(CHARACTERS, 2)
    episode, other_episode = rng.sample(EPISODES, 2)
    return template.format(
        character=character,
        other=other,
        pronoun=rng.choice(("she", "he", "they")),
        place=rng.choice(PLACES),
        thing=rng.choice(THINGS),
        episode=episode,
        other_episode=other_episode,
        moment=rng.choice(MOMENTS),
        verb=rng.choice(VERBS),
    )


def _emphasize(rng: random.Random, sentence: str) -> str:
    words = sentence.split(" ")
    if len(words) < 4 or rng.random() < 0.6:
        return sentence
    i = rng.randrange(1, len(words) - 1)
    if not words[i].isalpha():
        return sentence
    mark = rng.choice(("*", "**", "_"))
    words[i] = f"{mark}{words[i]}{mark}"
    return " ".join(words)


def _capitalized(text: str) -> str:
    return text[0].upper() + text[1:]


def _paragraph(rng: random.Random, reply: bool) -> str:
    parts = []
    if reply and rng.random() < 0.6:
        parts.append(rng.choice(REPLIES))
    opener = _fill(rng, rng.choice(OPENERS))
    claim = _fill(rng, rng.choice(CLAIMS))
    if opener.endswith((":", "and")) or opener == "Honestly,":
        parts.append(f"{opener} {claim}.")
    else:
        parts.append(f"{opener} {_capitalized(claim)}.")
    for _ in range(rng.randint(1, 3)):
        parts.append(_emphasize(rng, _fill(rng, rng.choice(EVIDENCE))))
    return " ".join(parts)


def _extra(rng: random.Random, quoted: str | None) -> str:
    kind = rng.random()
    if quoted and kind < 0.25:
        return "> " + quoted
    if kind < 0.45:
        items = rng.sample(EVIDENCE, 3)
        marker = rng.choice(("-", "1."))
        lines = []
        for n, item in enumerate(items, 1):
            bullet = f"{n}." if marker == "1." else "-"
            lines.append(f"{bullet} {_fill(rng, item)}")
        return "\n".join(lines)
    if kind < 0.6:
        return f"Source: {rng.choice(LINKS).format(n=rng.randint(1, 8))}"
    if kind < 0.68:
        return f"Timestamp for the doubters: `{rng.randint(0, 52)}:{rng.randint(0, 59):02d}`."
    return rng.choice(HEDGES)


def comment(rng: random.Random, quoted: str | None = None) -> str:
    """A Markdown body of 200-600 characters; quoted: a line of the comment
    replied to, which the reply may quote."""
    target = rng.randint(200, 600)
    blocks = [_paragraph(rng, reply=quoted is not None)]
    while sum(len(b) + 2 for b in blocks) < target:
        blocks.append(_extra(rng, quoted) if rng.random() < 0.5 else _paragraph(rng, False))
    body = "\n\n".join(blocks)
    while len(body) > 600 and len(blocks) > 1:
        blocks.pop()
        body = "\n\n".join(blocks)
    if len(body) > 600:
        body = body[:597].rsplit(" ", 1)[0] + "..."
    if len(body) < 200:
        body += "\n\n" + rng.choice(HEDGES)
    return body


def first_line(body: str) -> str:
    """A sentence of a comment, for a reply to quote."""
    return body.split("\n", 1)[0].split(". ", 1)[0][:160]


AUTHOR_NAMES = (
    "maren_truther",
    "lanternwatcher",
    "cliffpath",
    "okafor_stan",
    "fogbound",
    "brasskey",
    "ferry_dock_phil",
    "the_ledger",
    "reel_missing",
    "grey_coat",
    "stopped_clock",
    "petra_lives",
    "tunnelrat",
    "vida_knows",
    "hale_yeah",
    "twin_theory",
    "musicbox",
    "radio_room",
    "cannery_row",
    "seasonthree",
    "freezeframe",
    "doubter42",
    "lurker_no_more",
    "theorycrafter",
    "showrunner_fan",
    "nightferry",
    "saltwater",
    "keeper_of_keys",
    "chapelbell",
    "boardinghouse",
    "redscarf",
    "photo1974",
    "isle_of_doubt",
    "stormseq",
    "the_twins_did_it",
    "jonah_again",
    "creditsroll",
    "coldopen",
    "slowburn",
    "tidewatch",
)
