"""Every fixture file under tests/fixtures/ (subfolders included) is valid, read the way
``assistant eval`` reads it: the product's fixture loader, evidence check, article reader,
chunker and normalisation, plus the rules a fixture author must follow that the loader
cannot know (question types, evidence inside one sentence, key facts an extractive
answer can cover)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest

from assistant.articles import load_articles
from assistant.chunking import paragraph_spans, split_article
from assistant.evaluation.fixtures import Case, check_evidence, load_cases
from assistant.schemas import Article
from assistant.text import normalize
from tests.conftest import FIXTURES, ROOT

FILES = sorted(FIXTURES.glob("**/*.jsonl"))
#: the knowledge base the fixtures are written against: the seed article and every
#: ``articles`` folder under tests/fixtures/
ARTICLE_FOLDERS = [ROOT / "index" / "articles", *sorted(FIXTURES.glob("**/articles"))]

QUESTION_TYPES = frozenset(
    "factoid number date entity quote list why how paraphrase multi_hop follow_up "
    "yes_no comparison false_premise unanswerable off_topic injection".split()
)
#: types whose cases can never be answered from an article
ALWAYS_UNANSWERABLE = frozenset({"unanswerable", "off_topic", "injection"})


@cache
def articles() -> dict[str, Article]:
    """Every article of ``ARTICLE_FOLDERS`` by id (read once for all the files)."""
    found: dict[str, Article] = {}
    for folder in ARTICLE_FOLDERS:
        loaded = load_articles(folder)
        assert not loaded.errors, [str(e) for e in loaded.errors]
        for article in loaded.articles:
            assert article.id not in found, f"{article.id} is in two folders"
            found[article.id] = article
    return found


@cache
def sentences(article_id: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence of the article, as the chunker cuts it."""
    return [(s.start, s.end) for p in split_article(articles()[article_id]) for s in p.sentences]


def _where(body: str, snippet: str) -> list[int]:
    """Every offset at which ``snippet`` occurs in ``body``."""
    found, at = [], body.find(snippet)
    while at >= 0:
        found.append(at)
        at = body.find(snippet, at + 1)
    return found


def _paragraphs(article_id: str, snippet: str) -> list[str]:
    """The paragraphs of the article that hold ``snippet`` verbatim."""
    body = articles()[article_id].body
    return [body[s:e] for s, e in paragraph_spans(body) if snippet in body[s:e]]


def _type_problems(case: Case) -> list[str]:
    problems = []
    if case.question_type not in QUESTION_TYPES:
        problems.append(f"unknown question_type {case.question_type!r}")
    if case.answerable and case.question_type in ALWAYS_UNANSWERABLE:
        problems.append(f"{case.question_type} case marked answerable")
    if case.question_type == "follow_up" and not case.history:
        problems.append("follow_up case without history")
    if any(not turn.content.strip() for turn in case.history):
        problems.append("empty turn in history")
    return problems


def _evidence_problems(case: Case) -> tuple[list[str], set[str], list[str]]:
    """Problems of the case's evidence; the articles and paragraphs it comes from."""
    problems: list[str] = []
    sources: set[str] = set()
    paragraphs: list[str] = []
    scope = [case.article] if case.article else sorted(articles())
    for evidence in case.evidence:
        found = [a for a in scope if _where(articles()[a].body, evidence)]
        if not found:
            problems.append(
                f"evidence not verbatim in {case.article or 'any article'}: {evidence!r}"
            )
            continue
        sources.update(found)
        paragraphs += _paragraphs(found[0], evidence)
        # a citation quotes whole sentences: evidence across two cannot be one quote
        if not any(
            start <= at and at + len(evidence) <= end
            for at in _where(articles()[found[0]].body, evidence)
            for start, end in sentences(found[0])
        ):
            problems.append(f"evidence spans more than one sentence: {evidence!r}")
    if len(sources) > 1 and not case.article:
        problems.append(f"evidence found in several articles: {sorted(sources)}")
    if case.question_type == "multi_hop" and len(set(paragraphs)) < 2:
        problems.append("multi_hop evidence should come from two paragraphs")
    return problems, sources, paragraphs


def problems_of(case: Case) -> list[str]:
    """What is wrong with one case, beyond what ``load_cases`` and ``check_evidence`` see."""
    problems = _type_problems(case)
    if not case.answerable:
        return problems
    found, sources, paragraphs = _evidence_problems(case)
    problems += found
    # each fact must be coverable by an extractive answer quoting the evidence: one of
    # its phrasings occurs in the article and in a paragraph the evidence comes from
    texts = [normalize(articles()[a].body) for a in sorted(sources) or sorted(articles())]
    near = normalize(" \n ".join(paragraphs))
    for fact in case.key_facts:
        phrasings = [normalize(alt) for alt in fact]
        if not any(alt in text for alt in phrasings for text in texts):
            problems.append(f"no phrasing of key fact {fact!r} occurs in the article")
        elif paragraphs and not any(alt in near for alt in phrasings):
            problems.append(f"key fact {fact!r} is not in the evidence paragraphs")
    return problems


def test_there_are_fixture_files() -> None:
    names = {path.relative_to(FIXTURES).as_posix() for path in FILES}
    assert {"north-korean-troops-dev.jsonl", "north-korean-troops-test.jsonl"} <= names


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.relative_to(FIXTURES).as_posix())
def test_fixture_file_is_valid(path: Path) -> None:
    cases = load_cases([path])  # JSON, fields and types, unique ids: FixtureError if not
    check_evidence(cases, {a.id: a.body for a in articles().values()})
    problems = [f"{case.where}: {problem}" for case in cases for problem in problems_of(case)]
    assert not problems, "\n".join(problems)


def test_case_ids_are_unique_across_files() -> None:
    load_cases(FILES)  # FixtureError names the duplicate and where it was first used


def test_the_checks_catch_broken_cases() -> None:
    """Each rule above rejects a case that breaks it (so a passing file means something)."""
    good = {
        "id": "x",
        "question": "What did Orban say?",
        "article": "north-korean-troops-in-ukraine",
        "answerable": True,
        "reference_answer": "He called the plan frightening.",
        "key_facts": [["frightening"]],
        "evidence": ["called Zelensky’s plan “frightening”"],
        "question_type": "quote",
    }
    assert problems_of(Case.model_validate(good)) == []
    broken = {
        "question_type": ("qoute", "unknown question_type"),
        "evidence": (["Orban said “frightening”"], "not verbatim"),
        "key_facts": ([["frightening"], ["Macron"]], "no phrasing of key fact"),
    }
    for field, (value, expected) in broken.items():
        found = problems_of(Case.model_validate({**good, field: value}))
        assert any(expected in p for p in found), (field, found)
    two = good["evidence"] + ["some EU members are wary of escalation"]  # one paragraph
    found = problems_of(
        Case.model_validate({**good, "evidence": two, "question_type": "multi_hop"})
    )
    assert any("two paragraphs" in p for p in found), found
    across = Case.model_validate({**good, "evidence": [_across_sentences()]})
    assert any("more than one sentence" in p for p in problems_of(across))


def _across_sentences() -> str:
    """The end of one sentence of the seed article and the start of the next."""
    article_id = "north-korean-troops-in-ukraine"
    body = articles()[article_id].body
    (_, first_end), (second_start, _) = sentences(article_id)[:2]
    return body[first_end - 10 : second_start + 10]
