"""Places that news writing uses for their country or government ("Moscow" for Russia).

The embedding model knows many of these; the lexical side and the name check do not,
so a question saying "Pyongyang" would otherwise miss an article saying "North Korea".
"""

from __future__ import annotations

from assistant.text import words

#: capitals and buildings that news writing uses for their country or government, so a
#: question saying "Pyongyang" is about an article saying "North Korea"
METONYMS: dict[str, tuple[str, ...]] = {
    "pyongyang": ("korea", "korean"),
    "seoul": ("korea", "korean"),
    "moscow": ("russia", "russian"),
    "kremlin": ("russia", "russian"),
    "kyiv": ("ukraine", "ukrainian"),
    "kiev": ("ukraine", "ukrainian"),
    "beijing": ("china", "chinese"),
    "washington": ("u.s", "us", "america", "american"),
    "brussels": ("eu", "nato", "belgium"),
    "london": ("britain", "british", "uk", "u.k"),
    "paris": ("france", "french"),
    "berlin": ("germany", "german"),
    "budapest": ("hungary", "hungarian"),
    "vilnius": ("lithuania", "lithuanian"),
    "warsaw": ("poland", "polish"),
    "tokyo": ("japan", "japanese"),
    "tehran": ("iran", "iranian"),
    "ankara": ("turkey", "turkish"),
    "minsk": ("belarus", "belarusian"),
    "jerusalem": ("israel", "israeli"),
    "delhi": ("india", "indian"),
    "ottawa": ("canada", "canadian"),
    "canberra": ("australia", "australian"),
    "rome": ("italy", "italian"),
    "madrid": ("spain", "spanish"),
    "whitehall": ("britain", "british", "uk"),
    "pentagon": ("u.s", "us", "american", "military"),
    "america": ("u.s", "us", "american"),
    "american": ("u.s", "us", "america"),
    "alliance": ("nato",),
}


def expand(text: str) -> str:
    """``text`` with the country each capital in it stands for added, for lexical matching.

    Only the first name of each entry is added: one more term per capital, so that an
    answer is not credited twice for "Korea" and "Korean".
    """
    extra = [METONYMS[w][0] for w in words(text) if w in METONYMS]
    return f"{text} {' '.join(extra)}" if extra else text
