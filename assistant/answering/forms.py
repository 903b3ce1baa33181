"""What form of answer a question asks for: a time, a number, a sum of money, a name, a quotation.

Classic question answering calls this the expected answer type. "When will the troops
arrive?" is answered by a sentence with a time in it, or not at all; "What did Orban
say?" is best answered by his words in quotation marks. There is no offline model for
this small enough to ship, and English marks these forms plainly, so patterns do.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from assistant.text import STOPWORDS, stem, terms, words


@dataclass(frozen=True)
class AnswerForm:
    """One form of answer: how a question asks for it and how a sentence shows it."""

    name: str
    asks: re.Pattern[str]
    shows: re.Pattern[str]
    #: when True, a question of this form is not answered by a sentence without it
    required: bool
    #: a lower-ranked sentence of this form may answer when it scores this share of the top
    fallback_ratio: float = 0.6

    def fits(self, sentence: str, question: str = "") -> bool:
        """Whether the sentence holds an answer of this form to the question."""
        if not self.shows.search(sentence):
            return False
        if self is NAME:
            names = [n for n in new_names(sentence, question) if " " in n]
            return bool(names) and near_role(sentence, names, role(question))
        if self is AGENT:
            names = new_names(sentence, question)
            return bool(names) and near_role(sentence, names, role(question))
        if self is QUANTITY and (match := QUANTITY.asks.search(question.lower())):
            measure = match.group("measure")
            return measure in _GENERIC_MEASURES or stem(measure) in terms(sentence)
        if self is NUMBER and (counted := counted_noun(question)):
            # "How many soldiers have been killed?": soldiers counted, and killing spoken of
            said_of = predicate_terms(question)
            return counts(sentence, counted) and (
                not said_of or bool(said_of & set(terms(sentence)))
            )
        return True


_NUMBER_WORDS = (
    r"one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|dozen|dozens|"
    r"hundred|hundreds|thousand|thousands|million|millions|billion|half|twice"
)
_MONTHS = (
    r"january|february|march|april|may|june|july|august|september|october|november|"
    r"december|jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec"
)

MONEY = AnswerForm(
    "money",
    re.compile(
        r"\bhow much\b.*\b(cost|costs|pay|paid|spend|spent|price|worth|fund|funded|funding|"
        r"budget|raise|raised|charge|charged|earn|earned)\b"
    ),
    re.compile(
        r"[$€£¥]\s?\d|\b\d[\d,.]*\s?(dollars?|euros?|pounds|yen|million|billion|bn)\b",
        re.IGNORECASE,
    ),
    required=True,
)
NUMBER = AnswerForm(
    "number",
    re.compile(
        r"\bhow (many|much|long|old|far|big|large|high|often)\b"
        r"|\bwhat (number|percentage|share|proportion)\b"
    ),
    re.compile(rf"\d|\b({_NUMBER_WORDS})\b", re.IGNORECASE),
    required=True,
)
CLOCK = AnswerForm(
    "clock",
    re.compile(r"\b(at )?what time\b"),
    re.compile(
        r"\b\d{1,2}([:.]\d\d)?\s?(a\.m\.|p\.m\.|am\b|pm\b)|\bnoon\b|\bmidnight\b|o’clock|o'clock",
        re.IGNORECASE,
    ),
    required=True,
)
TIME = AnswerForm(
    "time",
    re.compile(r"\bwhen\b|\bwhat (year|month|day|date|time|season)\b|\bhow soon\b|\bsince when\b"),
    re.compile(
        rf"\b(1[89]|20)\d\d\b|\b({_MONTHS})\b|\b(monday|tuesday|wednesday|thursday|friday|"
        r"saturday|sunday|yesterday|today|tomorrow|tonight|week|weeks|month|months|year|years|"
        r"decade|century|winter|summer|spring|autumn|season|morning|evening|night|ago|"
        r"soon|later|earlier|next|last)\b",
        re.IGNORECASE,
    ),
    required=True,
)
NAME = AnswerForm(
    "name",
    # "What is the name of the lawyer ...?": a full name (two capitalised words or more)
    re.compile(r"\bwhat('s| is| was| are| were) (the |his |her |their |its )?names?\b"),
    # a capitalised word; ``new_names`` then wants one the question does not already hold
    re.compile(r"\b[A-Z]"),
    required=True,
    # the name must stand in the sentence that matches the description ("the senior NATO
    # official who predicted ..."), not in some other sentence that happens to have one
    fallback_ratio=0.9,
)
AGENT = AnswerForm(
    "agent",
    # "Which company built ...?", "Who chairs the board?", "Who warned that ...?": someone
    # named, not a category
    re.compile(
        r"^\s*who (?!is\b|are\b|was\b|were\b|else\b)\w+(s|ed)\b"
        r"|^\s*which (company|companies|firm|firms|developer|business|organi[sz]ation|group|"
        r"agency|bank|manufacturer|supplier|contractor|person|official|lawyer|judge|team|club|"
        r"university|school|hospital|newspaper|party)\b"
    ),
    NAME.shows,
    required=True,
    fallback_ratio=0.9,
)
PLACE = AnswerForm(
    "place",
    re.compile(r"^\s*where\b|\bin (what|which) (city|town|country|place|state|region)\b"),
    re.compile(r"\b(in|at|near|outside|inside|across|from)\s+(the\s+)?[A-Z]"),
    # "Where does the article say ...?" is not always asking for a place
    required=False,
)
SPEECH = AnswerForm(
    "speech",
    re.compile(
        r"\bwhat (did|does|do|has|have|had|would|will) .*\b(say|said|tell|told|warn|warned|"
        r"write|wrote|add|added|call|called|quote)\b|\bhow did .* (describe|put it)\b"
    ),
    re.compile(r"[“”\"]"),
    # reported speech ("Orban called the plan frightening") answers too
    required=False,
)
REASON = AnswerForm(
    "reason",
    re.compile(
        r"\bwhy\b|\bwhat (caused|causes|led to|is the reason|was the reason)\b"
        r"|\bfor what reason\b"
    ),
    re.compile(
        r"\b(because|since|as|so|due to|after|if|could|would|aimed|in order to|to protect|"
        r"to find|means|reason|led to|believes|thanks to|owing to|given)\b",
        re.IGNORECASE,
    ),
    required=False,
)

FUNDING = AnswerForm(
    "funding",
    # "How was the plant paid for?": where the money comes from, not how much it is
    re.compile(
        r"\bhow (is|was|are|were|will) .*\b(paid for|funded|financed|covered)\b"
        r"|\bwho (pays|paid|will pay|funds|funded|is paying)\b|\bwhere .* money\b"
    ),
    re.compile(
        r"\b(grants?|bonds?|loans?|donations?|donors?|foundation|budget|taxes|taxpayers|levy|"
        r"fees|fares|funded by|paid for by|paid for from|covered by|came from|comes from)\b",
        re.IGNORECASE,
    ),
    required=False,
)
QUANTITY = AnswerForm(
    "quantity",
    # "What was the turnout?": a number, asked without "how many"; the thing measured
    # must be named with it ("Turnout was 71 percent" does not give a population)
    re.compile(
        r"\bwhat (is|was|were|are) the (\w+ ){0,2}(?P<measure>totals?|figures?|tally|score|"
        r"count|margin|turnout|rate|percentage|price|amount|size|population|budget)\b"
    ),
    NUMBER.shows,
    required=True,
)
#: measures that any number answers ("What were the final totals?")
_GENERIC_MEASURES = frozenset({"total", "totals", "figure", "figures", "count", "amount"})

#: checked in this order: the first form whose question pattern matches is the one asked for
FORMS = (MONEY, NUMBER, CLOCK, TIME, NAME, FUNDING, AGENT, PLACE, SPEECH, REASON, QUANTITY)


_CALENDAR = frozenset(
    "january february march april may june july august september october november december "
    "monday tuesday wednesday thursday friday saturday sunday".split()
)
_SENTENCE_STARTERS = STOPWORDS | set(_NUMBER_WORDS.split("|"))
_CAPITALISED = re.compile(r"\b[A-Z][\w’'-]*(?:\s+(?:of|de|van|von|al|the)?\s*[A-Z][\w’'-]*)*")


def new_names(sentence: str, question: str) -> list[str]:
    """Capitalised names in the sentence that the question does not already contain."""
    asked = {stem(w) for w in words(question)}
    found = []
    for match in _CAPITALISED.finditer(sentence):
        single = " " not in match.group()
        if match.start() == 0 and single and match.group().lower() in _SENTENCE_STARTERS:
            continue  # "Two mobile units ...": a capital because the sentence starts there
        parts = [w for w in words(match.group()) if w not in STOPWORDS and w not in _CALENDAR]
        if parts and not all(stem(w) in asked for w in parts):
            found.append(match.group())
    return found


_ROLE = re.compile(
    r"\bname of (?:the |a |an |his |her |their |its )?(?P<phrase>[^?,]*?)"
    r"(?=\s+(?:who|that|which|whose|in|at|for|of)\b|[?,]|$)"
    r"|^\s*which (?P<kind>\w+)"
    r"|^\s*who (?P<verb>\w+)",
    re.IGNORECASE,
)
#: words a role and a name can stand apart by: "Ana Ruiz, the company's lawyer"
ROLE_WINDOW = 6


def role(question: str) -> str | None:
    """The role a name is asked for, stemmed: "the name of the senior official who ..." ->
    "offici"; "Which company ...?" -> "compani"; "Who chairs ...?" -> "chair"."""
    match = _ROLE.search(question)
    if not match:
        return None
    text = match.group("phrase") or match.group("kind") or match.group("verb") or ""
    content = [w for w in words(text) if w not in STOPWORDS]
    return stem(content[-1]) if content else None


def near_role(sentence: str, names: list[str], role_term: str | None) -> bool:
    """Whether one of the names stands within a few words of the role ("lawyer Ana Ruiz",
    "Rutte accused"): a name elsewhere in the sentence answers some other question."""
    if role_term is None:
        return True
    tokens = [stem(w) for w in words(sentence)]
    role_at = [i for i, t in enumerate(tokens) if t == role_term]
    if not role_at:
        return False
    name_words = {stem(w) for name in names for w in words(name)}
    name_at = [i for i, t in enumerate(tokens) if t in name_words]
    return any(abs(i - j) <= ROLE_WINDOW for i in role_at for j in name_at)


_HOW_MANY = re.compile(r"\bhow many\b(?P<rest>.*)", re.IGNORECASE)
_PLURALS = frozenset("people children men women police staff cattle sheep fish personnel".split())
_NUMBER_TOKEN = re.compile(rf"\d[\d,.]*|\b(?:{_NUMBER_WORDS})\b", re.IGNORECASE)


def counted_noun(question: str) -> str | None:
    """The plural noun a "how many" question counts ("How many drivers ...?" -> driver)."""
    match = _HOW_MANY.search(question)
    if not match:
        return None
    for word in words(match.group("rest"))[:5]:
        if word in _PLURALS or (
            word.endswith("s") and not word.endswith("ss") and word not in STOPWORDS
        ):
            return stem(word)
    return None


def predicate_terms(question: str) -> set[str]:
    """What a "how many" question says of what it counts: the terms after the counted noun
    ("How many people work at the plant?" -> work, plant)."""
    match = _HOW_MANY.search(question)
    if not match:
        return set()
    rest = words(match.group("rest"))
    for i, word in enumerate(rest[:5]):
        if stem(word) == counted_noun(question):
            return set(terms(" ".join(rest[i + 1 :])))
    return set()


def counts(sentence: str, noun: str) -> bool:
    """Whether the sentence puts a number right before the counted noun ("38 trains")."""
    for match in _NUMBER_TOKEN.finditer(sentence):
        # "10,000 North Korean soldiers" counts soldiers; "£1,200 for each driver" does not
        for word in words(sentence[match.end() : match.end() + 40])[:3]:
            if stem(word) == noun:
                return True
            if word in STOPWORDS:
                break
    return False


def expected_form(question: str) -> AnswerForm | None:
    """The form of answer the question asks for, if any."""
    q = question.lower()
    return next((form for form in FORMS if form.asks.search(q)), None)


_SPEAKER = re.compile(
    r"\bwhat (?:did|does|do|has|have|had) (?P<speaker>.+?) (?:say|said|tell|told|warn|warned|"
    r"write|wrote|add|added|call|called)\b",
    re.IGNORECASE,
)


def speaker(question: str) -> str | None:
    """Who the question asks to be quoted ("What did the governor say?" -> "the governor")."""
    match = _SPEAKER.search(question)
    return match.group("speaker") if match else None
