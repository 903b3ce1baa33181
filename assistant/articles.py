"""Read article files (``.txt``, ``.md`` with front matter) into ``Article`` objects."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from assistant.errors import ArticleError
from assistant.schemas import Article

SUFFIXES = (".txt", ".md", ".html", ".htm")

#: ids end up in URLs, filters and file names: keep them to a safe slug
ARTICLE_ID = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,126}[A-Za-z0-9])?$")

_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", re.DOTALL)


def check_article_id(article_id: str) -> str:
    """Return the id if it is a safe slug, else raise ``ArticleError``."""
    if not ARTICLE_ID.match(article_id) or ".." in article_id:
        raise ArticleError(
            f"invalid article id {article_id!r}: use letters, digits, '.', '_' and '-' only"
        )
    return article_id


def _decode(path: Path) -> str:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ArticleError(
            f"{path}: cannot read the file ({exc.strerror or exc})", path=str(path)
        ) from exc
    if b"\x00" in raw:
        raise ArticleError(f"{path}: looks like a binary file, not article text", path=str(path))
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ArticleError(
            f"{path}: not UTF-8 text (byte {exc.start}); save the file as UTF-8",
            path=str(path),
        ) from exc


def parse_txt(path: Path, text: str) -> Article:
    """First line is the title, the rest the body; the id is the file stem."""
    title, _, body = text.partition("\n")
    return _article(path, {"id": path.stem, "title": title.strip()}, body)


def parse_md(path: Path, text: str) -> Article:
    """YAML front matter (``id``, ``title``, optional ``url``, ``published``, ``author``),
    then the body."""
    match = _FRONT_MATTER.match(text)
    if not match:
        raise ArticleError(
            f"{path}: a .md article must start with '---' YAML front matter",
            path=str(path),
        )
    try:
        meta = yaml.safe_load(match.group(1)) or {}
    except yaml.YAMLError as exc:
        raise ArticleError(f"{path}: the front matter is not valid YAML", path=str(path)) from exc
    except RecursionError:  # the parser recurses once per level of nesting
        raise ArticleError(
            f"{path}: the front matter is nested too deeply", path=str(path)
        ) from None
    if not isinstance(meta, dict):
        raise ArticleError(f"{path}: the front matter must be a mapping of fields", path=str(path))
    meta.setdefault("id", path.stem)
    return _article(path, meta, text[match.end() :])


def _article(path: Path, meta: dict[str, object], body: str) -> Article:
    fields = {
        key: (None if meta.get(key) is None else str(meta[key]).strip())
        for key in ("id", "title", "url", "published", "author")
    }
    try:
        article_id = check_article_id(fields["id"] or "")
    except ArticleError as exc:
        raise ArticleError(f"{path}: {exc}", path=str(path)) from exc
    if not fields["title"]:
        raise ArticleError(f"{path}: the article has no title", path=str(path))
    body = body.strip()
    if not body:
        raise ArticleError(f"{path}: the article has no body text", path=str(path))
    return Article(
        id=article_id,
        title=fields["title"] or "",
        body=body,
        url=fields["url"],
        published=fields["published"],
        author=fields["author"],
        source_path=str(path),
    )


def parse_html(path: Path, text: str) -> Article:
    """A saved news page: main text and metadata extracted by trafilatura; id = file stem."""
    import trafilatura

    document = trafilatura.bare_extraction(
        text, with_metadata=True, include_comments=False, include_tables=False
    )
    if document is None:
        raise ArticleError(f"{path}: no article text found in the page", path=str(path))
    meta = document.as_dict() if hasattr(document, "as_dict") else dict(document)
    title = str(meta.get("title") or "").strip()
    body = str(meta.get("text") or "")
    first, _, rest = body.partition("\n")
    if title and first.strip() == title:
        body = rest  # trafilatura repeats the headline as the first line of the text
    return _article(
        path,
        {
            "id": path.stem,
            "title": title,
            "url": meta.get("url"),
            "published": meta.get("date"),
            "author": meta.get("author"),
        },
        body,
    )


def read_article(path: Path) -> Article:
    """One article file; raises ``ArticleError`` naming the file when it cannot be used."""
    text = _decode(path)
    if path.suffix == ".md":
        return parse_md(path, text)
    if path.suffix == ".txt":
        return parse_txt(path, text)
    if path.suffix in (".html", ".htm"):
        return parse_html(path, text)
    raise ArticleError(
        f"{path}: unsupported article type (use {', '.join(SUFFIXES)})", path=str(path)
    )


def write_article(folder: Path, article: Article) -> Path:
    """Save an article as ``folder/ID.md`` (front matter and body), replacing any other
    file of the same id, so ``assistant index`` keeps what was added over HTTP."""
    check_article_id(article.id)
    folder.mkdir(parents=True, exist_ok=True)
    meta = {
        key: value
        for key, value in (
            ("id", article.id),
            ("title", article.title),
            ("url", article.url),
            ("published", article.published),
            ("author", article.author),
        )
        if value
    }
    front = yaml.safe_dump(meta, allow_unicode=True, sort_keys=False)
    target = folder / f"{article.id}.md"
    partial = target.with_suffix(".md.tmp")
    partial.write_text(f"---\n{front}---\n\n{article.body.strip()}\n", encoding="utf-8")
    partial.replace(target)  # atomic: a reader sees the old file or the new one
    for other in article_files(folder, article.id):
        if other != target:
            other.unlink()
    return target


def article_files(folder: Path, article_id: str) -> list[Path]:
    """The files in ``folder`` that hold the article ``article_id``."""
    found = []
    for path in folder.glob(f"{article_id}.*"):
        if path.suffix in SUFFIXES and path.is_file():
            found.append(path)
    for path in folder.glob("*.md"):
        # a .md file's id may come from its front matter rather than its name
        if path not in found and path.stem != article_id:
            try:
                if read_article(path).id == article_id:
                    found.append(path)
            except ArticleError:
                continue
    return found


@dataclass
class LoadResult:
    """The articles that could be read, and one error per file that could not."""

    articles: list[Article] = field(default_factory=list)
    errors: list[ArticleError] = field(default_factory=list)


def load_articles(folder: Path) -> LoadResult:
    """Every article in ``folder``; a bad file is reported and skipped, the others still load."""
    if not folder.is_dir():
        raise ArticleError(f"articles folder {folder} does not exist (set ASSISTANT_ARTICLES_DIR)")
    result = LoadResult()
    seen: dict[str, Path] = {}
    for path in sorted(p for p in folder.iterdir() if p.suffix in SUFFIXES and p.is_file()):
        try:
            article = read_article(path)
        except ArticleError as exc:
            result.errors.append(exc)
            continue
        if article.id in seen:
            result.errors.append(
                ArticleError(
                    f"{path}: article id {article.id!r} is already used by {seen[article.id]}",
                    path=str(path),
                )
            )
            continue
        seen[article.id] = path
        result.articles.append(article)
    return result
