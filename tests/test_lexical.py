"""The hand-written BM25 index gives rank-bm25's scores, and updates one article at a time."""

from __future__ import annotations

import math
from collections import Counter
from pathlib import Path

import pytest
from rank_bm25 import BM25Okapi

from assistant.articles import load_articles
from assistant.chunking import split_article
from assistant.lexical import LexicalIndex
from assistant.schemas import Article, Passage
from assistant.text import terms, words
from tests.conftest import FIXTURES, ROOT

QUERIES = [
    "What did Orban say?",
    "How many troops will North Korea send to Russia",
    "When will the strike end",
    "how much did the recount cost the town",
    "bee valley sighting year",
    "zebra xylophone",  # no passage holds these
    "the the of",  # stop words only
]


@pytest.fixture(scope="module")
def passages() -> list[Passage]:
    found: list[Passage] = []
    for folder in (
        ROOT / "index" / "articles",
        FIXTURES / "articles",
        FIXTURES / "tuning" / "articles",
    ):
        found += [p for a in load_articles(Path(folder)).articles for p in split_article(a)]
    return found


def _reference(passages: list[Passage], query: str) -> dict[str, float]:
    """rank-bm25's BM25Okapi scores, divided by the best, as the retriever used them."""
    raw = BM25Okapi([terms(p.text) or ["\x00"] for p in passages]).get_scores(terms(query))
    top = max(raw)
    return {
        p.passage_id: max(0.0, s) / top if top > 0 else 0.0
        for p, s in zip(passages, raw, strict=True)
    }


def test_scores_equal_rank_bm25_in_every_scope(passages: list[Passage]) -> None:
    index = LexicalIndex(passages)
    scopes = [None, *sorted({p.article_id for p in passages})]
    assert len(scopes) > 4
    for scope in scopes:
        scoped = [p for p in passages if scope is None or p.article_id == scope]
        for query in QUERIES:
            ours = index.scores(terms(query), scope)
            for pid, expected in _reference(scoped, query).items():
                assert ours.get(pid, 0.0) == pytest.approx(expected, abs=1e-12), (scope, query)
            assert all(0 < s <= 1 for s in ours.values())


def test_idf_and_vocabulary_match_a_direct_count(passages: list[Passage]) -> None:
    index = LexicalIndex(passages)
    for scope in (None, "north-korean-troops-in-ukraine"):
        scoped = [p for p in passages if scope is None or p.article_id == scope]
        n = len(scoped)
        df = Counter(t for p in scoped for t in set(terms(p.text)))
        for term in ("troop", "strike", "orban", "never-used"):
            expected = math.log(1 + (n - df[term] + 0.5) / (df[term] + 0.5))
            assert index.idf(term, scope) == pytest.approx(expected)
        vocabulary = {w for p in scoped for w in (*words(p.text), *terms(p.text))}
        assert vocabulary <= index.vocabulary(scope)
    assert "orban" not in index.vocabulary("port-calder-water-plant")


def _article(article_id: str, body: str) -> list[Passage]:
    return split_article(Article(id=article_id, title=article_id.title(), body=body))


def test_updated_replaces_and_removes_one_article_only() -> None:
    first = _article("alpha", "The ferry to Skerry Island sailed at dawn.\n\nIt carried 40 sheep.")
    second = _article("beta", "A new library opened in the old mill on Friday.")
    # BM25 gives no weight to a word in half the passages or more: a few others around
    others = [p for i in range(4) for p in _article(f"other-{i}", f"Council notice {i}.")]
    index = LexicalIndex([*first, *second, *others])
    assert index.scores(terms("ferry sheep"), None)

    replaced = index.updated("alpha", _article("alpha", "The bridge to Skerry Island opened."))
    assert not replaced.scores(terms("ferry sheep"), None)  # the old text is gone
    assert list(replaced.scores(terms("bridge"), None)) == ["alpha:0"]
    assert replaced.scores(terms("library"), None) == index.scores(terms("library"), None)

    removed = replaced.updated("alpha", [])
    assert removed.scope("alpha") == []
    assert "alpha" not in {p.article_id for p in removed.scope(None)}
    assert len(removed.scope(None)) == len(index.scope(None)) - len(first)
    assert list(index.scores(terms("ferry"), None)) == ["alpha:0"]  # the earlier one is unchanged
