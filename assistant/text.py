"""Text normalisation and the word-level tools shared by retrieval, answering and evaluation."""

from __future__ import annotations

import re
import threading
import unicodedata
from functools import lru_cache

# the markers' grammar has one home; answer words are counted there (re-exported here)
from assistant.citations import word_count as word_count

_QUOTES = str.maketrans(
    {
        "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'",
        "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"',
        "\u00ab": '"', "\u00bb": '"', "\u2013": "-", "\u2014": "-",
    }
)  # fmt: skip

_WORD = re.compile(r"[0-9]+(?:[.,][0-9]+)*|[^\W\d_]+(?:['.][^\W\d_]+)*\.?", re.UNICODE)
#: control characters (newlines and tabs kept), the invisible bidirectional controls that
#: can make echoed text read backwards (U+061C, U+200E-F, U+202A-E, U+2066-9), and lone
#: surrogates, which are not text at all: JSON can carry "\ud800" but UTF-8 cannot
_CONTROL = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)
#: what marks text as binary rather than article text: control characters other than
#: tabs, line and page breaks, and lone surrogates
_BINARY = re.compile("[\x00-\x08\x0e-\x1f\x7f\ud800-\udfff]")

#: function words and question words: they say nothing about what a passage is about
STOPWORDS = frozenset(
    """a about above after again against all am an and any are aren't as at be because been
    before being below between both but by can could couldn't did didn't do does doesn't doing
    don't down during each few for from further had has have having he he'd he's her here hers
    herself him himself his how i i'd i'm i've if in into is isn't it it's its itself just let's
    me more most my myself no nor not of off on once only or other ought our ours ourselves out
    over own same she she's should so some such than that that's the their theirs them themselves
    then there there's these they they're this those through to too under until up very was
    wasn't we we're were weren't what what's when where which while who who's whom why why's
    will with won't would wouldn't you you're your yours yourself yourselves tell say said says
    according article also ever anything something thing things please explain describe give
    mention mentioned does did do know many much kind kinds sort type way ways""".split()
)

#: nationality words folded into their country, so "Lithuanian" in an article meets
#: "Lithuania" (or "Vilnius", see aliases.py) in a question; a stemmer cannot do this
DEMONYMS = {
    "afghan": "afghanistan", "american": "america", "australian": "australia",
    "austrian": "austria", "belarusian": "belarus", "belgian": "belgium",
    "brazilian": "brazil", "british": "britain", "canadian": "canada", "chinese": "china",
    "czech": "czechia", "danish": "denmark", "dutch": "netherlands", "egyptian": "egypt",
    "estonian": "estonia", "european": "europe", "finnish": "finland", "french": "france",
    "georgian": "georgia", "german": "germany", "greek": "greece", "hungarian": "hungary",
    "indian": "india", "iranian": "iran", "iraqi": "iraq", "irish": "ireland",
    "israeli": "israel", "italian": "italy", "japanese": "japan", "korean": "korea",
    "latvian": "latvia", "lithuanian": "lithuania", "mexican": "mexico",
    "moldovan": "moldova", "norwegian": "norway", "pakistani": "pakistan",
    "palestinian": "palestine", "polish": "poland", "portuguese": "portugal",
    "romanian": "romania", "russian": "russia", "saudi": "arabia", "serbian": "serbia",
    "slovak": "slovakia", "spanish": "spain", "swedish": "sweden", "swiss": "switzerland",
    "syrian": "syria", "taiwanese": "taiwan", "turkish": "turkey", "ukrainian": "ukraine",
    "venezuelan": "venezuela", "vietnamese": "vietnam", "western": "west",
}  # fmt: skip


def normalize(text: str) -> str:
    """The shared matching normalisation: NFKC, ASCII quotes, folded whitespace, lower case."""
    text = unicodedata.normalize("NFKC", text).translate(_QUOTES)
    return " ".join(text.split()).lower()


def strip_control(text: str) -> str:
    """Drop control characters (keeping newlines and tabs), bidirectional controls and lone
    surrogates from user input."""
    return _CONTROL.sub("", text)


def binary_character(text: str) -> str | None:
    """The first character that has no place in article text (a NUL, a lone surrogate), as
    ``U+XXXX``; ``None`` when there is none."""
    found = _BINARY.search(text)
    return f"U+{ord(found.group()):04X}" if found else None


def words(text: str) -> list[str]:
    """Lower-case word tokens of normalised text (numbers keep their separators)."""
    return [w.rstrip(".").replace("'s", "") for w in _WORD.findall(normalize(text))]


#: one stemmer per thread: a snowballstemmer stemmer keeps the word it is stemming on
#: the instance, so one shared by the web app's worker threads mixes their words up
#: (wrong stems, which ``stem`` would then remember, or an IndexError)
_per_thread = threading.local()


def _stemmer():  # type: ignore[no-untyped-def]
    stemmer = getattr(_per_thread, "stemmer", None)
    if stemmer is None:
        import snowballstemmer

        stemmer = _per_thread.stemmer = snowballstemmer.stemmer("english")
    return stemmer


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """Snowball (Porter 2) stem, so 'accused' meets 'accuse' and 'troops' meets 'troop'."""
    return str(_stemmer().stemWord(word.replace(".", "")))


#: irregular past forms, folded into their base so "began" meets "begin" and "paid" meets
#: "pay"; a suffix stemmer cannot see these
IRREGULAR = {
    "began": "begin", "begun": "begin", "brought": "bring", "built": "build",
    "bought": "buy", "came": "come", "caught": "catch", "chose": "choose",
    "chosen": "choose", "dealt": "deal", "did": "do", "done": "do", "drew": "draw",
    "drawn": "draw", "drove": "drive", "driven": "drive", "fell": "fall",
    "fallen": "fall", "felt": "feel", "fought": "fight", "found": "find", "flew": "fly",
    "flown": "fly", "forgot": "forget", "gave": "give", "given": "give", "went": "go",
    "gone": "go", "grew": "grow", "grown": "grow", "held": "hold", "hid": "hide",
    "hidden": "hide", "hit": "hit", "kept": "keep", "knew": "know", "known": "know",
    "laid": "lay", "led": "lead", "left": "leave", "lent": "lend", "lost": "lose",
    "made": "make", "meant": "mean", "met": "meet", "paid": "pay", "ran": "run",
    "rose": "rise", "risen": "rise", "saw": "see", "seen": "see", "sought": "seek",
    "sold": "sell", "sent": "send", "set": "set", "shook": "shake", "shot": "shoot",
    "shut": "shut", "slept": "sleep", "spoke": "speak", "spoken": "speak",
    "spent": "spend", "stood": "stand", "stole": "steal", "stolen": "steal",
    "struck": "strike", "swore": "swear", "sworn": "swear", "took": "take",
    "taken": "take", "taught": "teach", "thought": "think", "threw": "throw",
    "thrown": "throw", "told": "tell", "understood": "understand", "won": "win",
    "wrote": "write", "written": "write", "woke": "wake", "wore": "wear", "worn": "wear",
}  # fmt: skip


def terms(text: str) -> list[str]:
    """Stemmed content words, nationalities and irregular verbs folded: the unit of matching."""
    return [
        stem(DEMONYMS.get(w) or IRREGULAR.get(w, w))
        for w in words(text)
        if w not in STOPWORDS and len(w) > 1 or w.isdigit()
    ]


@lru_cache(maxsize=65536)
def term_set(text: str) -> frozenset[str]:
    """``terms`` as a set, remembered: an article's sentences are scored again and again."""
    return frozenset(terms(text))
