"""Read article files (``.txt``, ``.md`` with front matter, ``.html``) into ``Article``
objects, and write the ones added over HTTP."""

from __future__ import annotations

import logging
import os
import re
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import yaml

from assistant.errors import ArticleError, ArticleTooLargeError
from assistant.schemas import Article

logger = logging.getLogger(__name__)

SUFFIXES = (".txt", ".md", ".html", ".htm")

#: ids end up in URLs, filters and file names: keep them to a safe slug
ARTICLE_ID = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,126}[A-Za-z0-9])?$")

#: the temporary files ``write_article`` writes before renaming them into place
_PARTIAL = re.compile(r"^\..+\.tmp$")
#: a temporary file older than this was left by a process that died while writing it
PARTIAL_MAX_AGE_S = 600.0

_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", re.DOTALL)


def check_article_id(article_id: str) -> str:
    """Return the id if it is a safe slug, else raise ``ArticleError``."""
    if not ARTICLE_ID.match(article_id) or ".." in article_id:
        raise ArticleError(
            f"invalid article id {article_id!r}: use letters, digits, '.', '_' and '-' only"
        )
    return article_id


def is_web_url(url: str) -> bool:
    """Whether ``url`` is an absolute http(s) link (not ``javascript:``, ``data:``, a path)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.netloc)


def check_size(article: Article, max_chars: int | None) -> Article:
    """The article if its body is within ``max_chars``, else ``ArticleTooLargeError``."""
    size = len(article.body)
    if max_chars is not None and size > max_chars:
        where = f"{article.source_path}: the article" if article.source_path else "the article"
        raise ArticleTooLargeError(
            f"{where} {article.id!r} is {size:,} characters long; the limit is {max_chars:,} "
            "(ASSISTANT_MAX_ARTICLE_CHARS): split it into parts or raise the limit",
            path=article.source_path,
        )
    return article


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
    url = fields["url"]
    if url and not is_web_url(url):
        # a link readers click (the widget shows it): only http(s). Dropped rather than
        # refused, so an archive with relative links still answers
        logger.warning("%s: url %r is not an http(s) link; left out", path, url)
        url = None
    return Article(
        id=article_id,
        title=fields["title"] or "",
        body=body,
        url=url,
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
    file of the same id, so ``assistant index`` keeps what was added over HTTP.

    Atomic: the text goes to a temporary file in the same folder, which is then renamed
    over the target, so a reader (or a restart after a crash) sees the old file or the
    new one, never half of one.
    """
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
    # a name of its own: two processes saving one id must not write into one file
    handle, partial = tempfile.mkstemp(dir=folder, prefix=f".{article.id}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(f"---\n{front}---\n\n{article.body.strip()}\n")
            out.flush()
            os.fsync(out.fileno())  # on disk before the rename makes it the article
        os.replace(partial, target)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise
    for other in article_files(folder, article.id):
        if other != target:
            other.unlink()
    return target


def article_files(folder: Path, article_id: str) -> list[Path]:
    """The files in ``folder`` that hold the article ``article_id``: ``ID.md``, ``ID.txt``,
    ... (exactly that name: ``ID.v2.md`` is another article) and any ``.md`` file whose
    front matter gives it that id."""
    found = [
        path
        for path in sorted(folder.iterdir())
        if path.suffix in SUFFIXES and path.stem == article_id and path.is_file()
    ]
    for path in sorted(folder.glob("*.md")):
        # a .md file's id may come from its front matter rather than its name
        if path not in found and path.stem != article_id:
            try:
                if read_article(path).id == article_id:
                    found.append(path)
            except ArticleError:
                continue
    return found


def remove_partial_files(folder: Path, max_age_s: float = PARTIAL_MAX_AGE_S) -> list[Path]:
    """Delete the temporary files a process killed in ``write_article`` left behind (old
    enough that no running process is still writing them); the files removed."""
    removed = []
    now = time.time()
    for path in folder.glob(".*.tmp") if folder.is_dir() else ():
        try:
            if _PARTIAL.match(path.name) and now - path.stat().st_mtime > max_age_s:
                path.unlink()
                removed.append(path)
        except OSError:
            continue  # removed by another process meanwhile
    return removed


@dataclass
class LoadResult:
    """The articles that could be read, and one error per file that could not."""

    articles: list[Article] = field(default_factory=list)
    errors: list[ArticleError] = field(default_factory=list)


def load_articles(folder: Path, max_chars: int | None = None) -> LoadResult:
    """Every article in ``folder``; a bad file (or one whose body is over ``max_chars``) is
    reported and skipped, the others still load."""
    if not folder.is_dir():
        raise ArticleError(f"articles folder {folder} does not exist (set ASSISTANT_ARTICLES_DIR)")
    result = LoadResult()
    seen: dict[str, Path] = {}
    for path in sorted(p for p in folder.iterdir() if p.suffix in SUFFIXES and p.is_file()):
        try:
            article = check_size(read_article(path), max_chars)
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
