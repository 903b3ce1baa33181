"""Reading article files: formats, ids, and bad files named without stopping the rest."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from assistant.articles import (
    PARTIAL_MAX_AGE_S,
    article_files,
    check_article_id,
    check_size,
    is_web_url,
    load_articles,
    read_article,
    remove_partial_files,
    write_article,
)
from assistant.errors import ArticleError, ArticleTooLargeError
from assistant.schemas import Article
from tests.conftest import SEED_FILE, SEED_ID


def test_seed_article_reads_verbatim() -> None:
    article = read_article(SEED_FILE)
    raw = SEED_FILE.read_text(encoding="utf-8")
    assert article.id == SEED_ID
    assert article.title == "North Korean Troops in Ukraine: A Dangerous Escalation?"
    assert article.body in raw and article.body.startswith("The conflict in Ukraine")
    assert "“frightening”" in article.body  # typographic quotes kept


def test_markdown_front_matter(tmp_path: Path) -> None:
    path = tmp_path / "x.md"
    path.write_text(
        "---\nid: my-story\ntitle: A Story\nurl: https://example.org/s\npublished: 2026-01-02\n"
        "author: Jo\n---\n\nFirst para.\n\nSecond para.\n",
        encoding="utf-8",
    )
    article = read_article(path)
    assert (article.id, article.title, article.url, article.published, article.author) == (
        "my-story", "A Story", "https://example.org/s", "2026-01-02", "Jo",
    )  # fmt: skip
    assert article.body == "First para.\n\nSecond para."


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("latin1.txt", "Title\nCaf\xe9 body".encode("latin-1"), "not UTF-8"),
        ("binary.txt", b"\x00\x01\x02PNG", "binary"),
        ("nobody.txt", b"Just a title\n   \n", "no body"),
        ("nofront.md", b"# Title\n\nBody", "front matter"),
        ("badyaml.md", b"---\ntitle: [unclosed\n---\nBody", "not valid YAML"),
        ("bad id!.txt", b"Title\nBody", "invalid article id"),
    ],
)
def test_bad_files_are_named(tmp_path: Path, name: str, content: bytes, message: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ArticleError, match=message) as info:
        read_article(path)
    assert name in str(info.value)


def test_bad_file_does_not_stop_the_others(tmp_path: Path) -> None:
    (tmp_path / "good.txt").write_text("Good\nBody text.", encoding="utf-8")
    (tmp_path / "bad.txt").write_bytes(b"\xff\xfe\x00\x00")
    (tmp_path / "notes.csv").write_text("ignored", encoding="utf-8")
    result = load_articles(tmp_path)
    assert [a.id for a in result.articles] == ["good"]
    assert len(result.errors) == 1 and "bad.txt" in str(result.errors[0])


def test_duplicate_ids_are_reported(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("A\nBody.", encoding="utf-8")
    (tmp_path / "b.md").write_text("---\nid: a\ntitle: B\n---\nBody.", encoding="utf-8")
    result = load_articles(tmp_path)
    assert len(result.articles) == 1
    assert "already used" in str(result.errors[0])


@pytest.mark.parametrize("bad", ["../etc/passwd", "a/b", "", ".hidden", "x" * 200, "a..b", "a b"])
def test_article_ids_are_safe(bad: str) -> None:
    with pytest.raises(ArticleError):
        check_article_id(bad)


def test_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(ArticleError, match="does not exist"):
        load_articles(tmp_path / "nope")


SAVED_PAGE = """<html><head><title>Council budget | The Daily</title>
<meta name="author" content="Jo Bloggs"><meta property="og:url" content="https://example.org/budget">
<meta property="article:published_time" content="2026-10-01"></head>
<body><nav>Home | Sport | Weather</nav><article><h1>Council passes budget</h1>
<p>The city council passed its budget on Tuesday after a long debate about bus fares and parks.</p>
<p>“We had to make hard choices,” said Mayor Ana Ruiz, who voted for the plan with eight others.</p>
</article><footer>Copyright The Daily. Subscribe now!</footer></body></html>"""


def test_saved_html_page(tmp_path: Path) -> None:
    path = tmp_path / "council-budget.html"
    path.write_text(SAVED_PAGE, encoding="utf-8")
    article = read_article(path)
    assert (article.id, article.title, article.url) == (
        "council-budget", "Council passes budget", "https://example.org/budget",
    )  # fmt: skip
    assert (article.published, article.author) == ("2026-10-01", "Jo Bloggs")
    assert article.body.startswith("The city council passed its budget")
    assert "“We had to make hard choices,” said Mayor Ana Ruiz" in article.body
    assert "Subscribe" not in article.body and "Weather" not in article.body


def test_html_without_text_is_named(tmp_path: Path) -> None:
    path = tmp_path / "empty.html"
    path.write_text("<html><body><nav>Home</nav></body></html>", encoding="utf-8")
    with pytest.raises(ArticleError, match="empty.html"):
        read_article(path)


def test_write_article_round_trips_and_replaces(tmp_path: Path) -> None:
    (tmp_path / "story.txt").write_text("Old title\nOld body.", encoding="utf-8")
    article = Article(
        id="story", title="A “quoted”: title", body="First.\n\nSecond: with a colon.",
        url="https://example.org/s", published="2026-01-02", author="Jo",
    )  # fmt: skip
    path = write_article(tmp_path, article)
    assert article_files(tmp_path, "story") == [path]  # the old .txt is gone
    again = read_article(path)
    assert (again.id, again.title, again.body, again.url, again.published, again.author) == (
        article.id, article.title, article.body, article.url, article.published, article.author,
    )  # fmt: skip


# -- files found by exact id, written atomically, size and links checked ------------------


def story(article_id: str, body: str = "Body text.") -> Article:
    return Article(id=article_id, title=f"Story {article_id}", body=body)


def test_an_id_matches_its_own_files_only(tmp_path: Path) -> None:
    """Saving ``budget`` once deleted ``budget.v2.md`` (files were matched by ``budget.*``)."""
    v2 = write_article(tmp_path, story("budget.v2"))
    (tmp_path / "budget.final.txt").write_text("Final\nBody.", encoding="utf-8")
    (tmp_path / "budget.txt").write_text("Old\nOld body.", encoding="utf-8")
    (tmp_path / "renamed.md").write_text("---\nid: budget\ntitle: R\n---\nBody.", encoding="utf-8")

    assert article_files(tmp_path, "budget") == [tmp_path / "budget.txt", tmp_path / "renamed.md"]
    saved = write_article(tmp_path, story("budget"))

    assert saved == tmp_path / "budget.md"
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "budget.final.txt", "budget.md", "budget.v2.md",
    ]  # fmt: skip
    assert article_files(tmp_path, "budget.v2") == [v2]
    assert {a.id for a in load_articles(tmp_path).articles} == {
        "budget", "budget.v2", "budget.final",
    }  # fmt: skip


def test_write_article_leaves_no_partial_file(tmp_path: Path) -> None:
    write_article(tmp_path, story("a"))
    write_article(tmp_path, story("a", "A new body."))
    assert [p.name for p in tmp_path.iterdir()] == ["a.md"]
    assert read_article(tmp_path / "a.md").body == "A new body."


def test_partial_files_of_dead_writers_are_removed(tmp_path: Path) -> None:
    old = tmp_path / ".story.k3j2.tmp"
    old.write_text("half an artic", encoding="utf-8")
    os.utime(old, (time.time() - PARTIAL_MAX_AGE_S - 60,) * 2)
    recent = tmp_path / ".other.x9.tmp"  # maybe another process writing right now
    recent.write_text("half", encoding="utf-8")
    mine = tmp_path / ".notes.tmp.txt"
    mine.write_text("not ours", encoding="utf-8")
    os.utime(mine, (time.time() - PARTIAL_MAX_AGE_S - 60,) * 2)

    assert remove_partial_files(tmp_path) == [old]
    assert not old.exists() and recent.exists() and mine.exists()
    assert load_articles(tmp_path).articles == []  # never read as articles anyway


def test_an_article_over_the_size_limit_is_refused_by_name(tmp_path: Path) -> None:
    (tmp_path / "short.txt").write_text("Short\nA short body.", encoding="utf-8")
    (tmp_path / "long.txt").write_text("Long\n" + "x" * 2_000, encoding="utf-8")

    result = load_articles(tmp_path, max_chars=1_000)

    assert [a.id for a in result.articles] == ["short"]
    (error,) = result.errors
    assert isinstance(error, ArticleTooLargeError) and error.path == str(tmp_path / "long.txt")
    assert "2,000 characters" in str(error) and "ASSISTANT_MAX_ARTICLE_CHARS" in str(error)
    with pytest.raises(ArticleTooLargeError, match="'x' is 1,001 characters"):
        check_size(story("x", "y" * 1_001), 1_000)


@pytest.mark.parametrize(
    ("url", "kept"),
    [
        ("https://example.org/story", True),
        ("http://example.org/story?id=1", True),
        ("javascript:alert(1)", False),
        ("JavaScript:alert(1)", False),
        ("data:text/html,<script>x</script>", False),
        ("/2026/story", False),
        ("https:///nohost", False),
    ],
)
def test_only_web_links_are_kept_from_files(tmp_path: Path, url: str, kept: bool) -> None:
    path = tmp_path / "s.md"
    path.write_text(f"---\ntitle: S\nurl: '{url}'\n---\nBody.", encoding="utf-8")
    assert read_article(path).url == (url if kept else None)
    assert is_web_url(url) == kept
