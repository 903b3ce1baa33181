"""Reading article files: formats, ids, and bad files named without stopping the rest."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.articles import check_article_id, load_articles, read_article
from assistant.errors import ArticleError
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
    from assistant.articles import article_files, write_article
    from assistant.schemas import Article

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
