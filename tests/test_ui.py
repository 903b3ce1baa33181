"""The Gradio UI: its rendering helpers, and the real app served by ``python app.py``."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from assistant.articles import read_article
from assistant.schemas import Answer, Citation
from assistant.web.ui import (
    FEEDBACK,
    QUESTIONS,
    STREAM_CHUNKS,
    Exchange,
    build_ui,
    chat_messages,
    citation_link,
    conversation,
    escape_html,
    escape_markdown,
    passage_anchor,
    quoted_in_answer,
    render_answer,
    render_answer_text,
    render_article,
    render_sources,
    stream_pieces,
    text_fragment,
    web_url,
)
from tests.conftest import ROOT, SEED_FILE, SEED_ID, seed_articles
from tests.gradio_page import Page, Result
from tests.test_widget import browser  # noqa: F401 - a fixture

XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'
SEED_BODY = read_article(SEED_FILE).body

# -- rendering helpers -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("What did Orban say?", "What did Orban say?"),
        ("Zelensky’s “Victory Plan.”", "Zelensky’s “Victory Plan.”"),
        ("<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;"),
        ("<img src=x onerror=alert(1)>", "&lt;img src=x onerror=alert(1)&gt;"),
        ("Tom & Jerry", "Tom &amp; Jerry"),
        ("[click](javascript:alert(1))", "\\[click\\](javascript:alert(1))"),
        ("![img](http://x/y.png)", "!\\[img\\](http://x/y.png)"),
        ("**bold** _it_ `code`", "\\*\\*bold\\*\\* \\_it\\_ \\`code\\`"),
        ("# heading", "\\# heading"),
        ("- item\n1. first", "\\- item\n1\\. first"),
        ("$$x$$", "\\$\\$x\\$\\$"),
    ],
)
def test_escape_markdown(text: str, expected: str) -> None:
    assert escape_markdown(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("<b>\"hi\"</b> & 'you'", "&lt;b&gt;&quot;hi&quot;&lt;/b&gt; &amp; &#x27;you&#x27;"),
        ("{{value}} ${7*7} `x`", "&#123;&#123;value&#125;&#125; &#36;&#123;7*7&#125; &#96;x&#96;"),
    ],
)
def test_escape_html(text: str, expected: str) -> None:
    assert escape_html(text) == expected


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://news.example.org/a", "https://news.example.org/a"),
        ("http://news.example.org/a?b=1&c=2#top", "http://news.example.org/a?b=1&c=2"),
        ("https://x.org/a b(c)", "https://x.org/a%20b%28c%29"),
        ("javascript:alert(1)", None),
        ("data:text/html,<script>", None),
        ("/relative/path", None),
        ("", None),
        (None, None),
    ],
)
def test_web_url(url: str | None, expected: str | None) -> None:
    assert web_url(url) == expected


@pytest.mark.parametrize(
    ("quote", "expected"),
    [
        ("a short quote", ":~:text=a%20short%20quote"),
        ("long-range, missiles", ":~:text=long%2Drange%2C%20missiles"),
        (
            "one two three four five six seven eight nine ten eleven",
            ":~:text=one%20two%20three%20four%20five,seven%20eight%20nine%20ten%20eleven",
        ),
    ],
)
def test_text_fragment(quote: str, expected: str) -> None:
    assert text_fragment(quote) == expected


def citation(**changes: Any) -> Citation:
    base = Citation(
        n=1,
        article_id=SEED_ID,
        article_title="North Korean Troops in Ukraine: A Dangerous Escalation?",
        passage_id=f"{SEED_ID}:6",
        quote="Orban called Zelensky’s plan “frightening”",
        start=10,
        end=50,
        score=0.7,
    )
    return base.model_copy(update=changes)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (None, f"#passage-{SEED_ID}-6"),
        ("javascript:alert(1)", f"#passage-{SEED_ID}-6"),
        (
            "https://news.example.org/nk",
            "https://news.example.org/nk#:~:text=Orban%20called%20Zelensky%E2%80%99s%20plan"
            "%20%E2%80%9Cfrightening%E2%80%9D",
        ),
    ],
)
def test_citation_link(url: str | None, expected: str) -> None:
    assert citation_link(citation(url=url)) == expected


def test_stream_pieces_grow_to_the_whole_text() -> None:
    text = "Hungarian Prime Minister Viktor Orban called Zelensky’s plan “frightening” [1]"
    many = " ".join(["word"] * 100)

    pieces = list(stream_pieces(text))
    long_pieces = list(stream_pieces(many))

    assert pieces[-1] == text
    for shorter, longer in zip(pieces, pieces[1:], strict=False):
        assert longer.startswith(shorter) and len(longer) > len(shorter)
    assert len(long_pieces) <= STREAM_CHUNKS and long_pieces[-1] == many
    assert list(stream_pieces("")) == []


def test_sources_and_answer_of_a_real_answer(assistant) -> None:  # type: ignore[no-untyped-def]
    answer = assistant.ask("What did Orban say?")
    [cited] = answer.citations

    message = render_answer(answer)
    sources = render_sources(answer.citations, answer.answer)

    assert message.startswith(render_answer_text(answer.answer, answer.citations))
    assert message.endswith(sources)
    assert "**Sources**" in sources
    assert escape_markdown(cited.article_title) in sources
    assert f"[show passage](#passage-{SEED_ID}-" in sources
    # the answer is the quote: it is not shown a second time
    assert quoted_in_answer(cited, answer.answer)
    assert f"> {escape_markdown(cited.quote)}" not in sources
    assert message.count("frightening") == 2  # the answer, and the [1] link's title


def test_a_quote_the_answer_does_not_hold_is_shown(assistant) -> None:  # type: ignore[no-untyped-def]
    answer = assistant.ask("What did Orban say?")
    [cited] = answer.citations
    reworded = answer.model_copy(update={"answer": "He called the plan frightening. [1]"})

    sources = render_sources(reworded.citations, reworded.answer)

    assert not quoted_in_answer(cited, reworded.answer)
    assert f"> {escape_markdown(cited.quote)}" in sources


def test_inline_citations_are_links_with_their_quote(assistant) -> None:  # type: ignore[no-untyped-def]
    answer = assistant.ask("What did Orban say?")
    [cited] = answer.citations
    anchor = passage_anchor(cited.passage_id)

    text = render_answer_text(answer.answer, answer.citations)

    assert text.endswith(f'[\\[1\\]](#{anchor} "{escape_html(cited.quote)}")')
    # a marker without a citation stays text
    assert render_answer_text("x [7]", answer.citations) == "x \\[7\\]"


def test_the_cited_paragraph_folds_under_the_answer(assistant) -> None:  # type: ignore[no-untyped-def]
    answer = assistant.ask("What did Orban say?")
    [cited] = answer.citations
    context = {p.passage_id: p for p in assistant.article_passages(SEED_ID)}

    message = render_answer(answer, context=context)

    assert '<details class="source-context"><summary>Source [1] in its paragraph' in message
    assert f'<mark title="Source [1]">{escape_html(cited.quote)}</mark>' in message
    assert "Meanwhile, some EU members are wary of escalation." in message  # its paragraph


def test_an_abstained_answer_lists_no_sources(assistant) -> None:  # type: ignore[no-untyped-def]
    answer = assistant.ask("What did Emmanuel Macron say?")

    assert answer.abstained
    assert render_sources(answer.citations) == ""
    assert render_answer(answer) == escape_markdown(answer.answer)


def test_chat_messages_escape_questions_answers_and_sources() -> None:
    answer = Answer(
        question=f"{XSS} What did Orban say?",
        answer=f"{XSS} [1]",
        abstained=False,
        citations=[citation(quote=XSS, article_title=XSS, url="javascript:alert(1)")],
    )
    exchanges = [Exchange(answer.question, answer, None)]

    messages = chat_messages(exchanges)

    assert [m["role"] for m in messages] == ["user", "assistant"]
    for message in messages:
        assert "<script" not in message["content"]
        assert "<img" not in message["content"]
        assert "javascript:" not in message["content"].replace("onerror=alert", "")
        assert "&lt;script&gt;" in message["content"]
    # the history for ask() stays plain text
    assert conversation(exchanges) == [
        {"role": "user", "content": answer.question},
        {"role": "assistant", "content": answer.answer},
    ]


def test_article_panel_highlights_the_cited_sentence(assistant) -> None:  # type: ignore[no-untyped-def]
    answer = assistant.ask("What did Orban say?")
    [cited] = answer.citations
    [info] = [a for a in assistant.articles() if a.id == SEED_ID]
    passages = assistant.article_passages(SEED_ID)

    page = render_article(info, passages, answer.citations)

    assert SEED_BODY[cited.start : cited.end] == cited.quote
    assert f'<mark title="Source [1]">{escape_html(cited.quote)}</mark>' in page
    assert page.count("<mark") == 1
    assert page.count('class="passage cited"') == 1
    # a keyboard can scroll the panel, a screen reader find it
    assert f'tabindex="0" role="region" aria-label="Article: {escape_html(info.title)}"' in page
    assert f'id="passage-{SEED_ID}-{cited.passage_id.rsplit(":", 1)[1]}"' in page
    assert f"<h2>{escape_html(info.title)}</h2>" in page
    # without citations nothing is marked
    assert "<mark" not in render_article(info, passages)


def test_article_panel_escapes_article_text(assistant) -> None:  # type: ignore[no-untyped-def]
    [info] = [a for a in assistant.articles() if a.id == SEED_ID]
    first, *rest = assistant.article_passages(SEED_ID)
    evil = first.model_copy(update={"text": XSS + " {{value}} ${7*7} " + first.text[80:]})
    evil_info = type(info)(**{**vars(info), "title": XSS, "url": "javascript:alert(1)"})
    cited = citation(start=first.start, end=first.start + len(XSS), n=2)

    page = render_article(evil_info, [evil, *rest], [cited])

    assert "<script" not in page and "<img" not in page
    assert "javascript:" not in page
    assert "{{" not in page and "${" not in page
    assert escape_html(XSS) in page
    assert f'<mark title="Source [2]">{escape_html(XSS)}</mark>' in page


def test_build_ui_exposes_no_api_of_its_own(assistant) -> None:  # type: ignore[no-untyped-def]
    import gradio as gr

    demo = build_ui(assistant)

    assert isinstance(demo, gr.Blocks)
    # the page's events only: questions over HTTP go to /api/ask, under its rules
    assert {fn.api_visibility for fn in demo.fns.values()} == {"private"}
    kinds = {fn.name: fn.concurrency_id for fn in demo.fns.values()}
    assert kinds["respond"] == QUESTIONS and kinds["on_like"] == FEEDBACK


# -- the real app --------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def app_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``python app.py`` running for real on a free port, with its index in a tmp folder."""
    root = tmp_path_factory.mktemp("app")
    seed_articles(root / "articles")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    env |= {
        "ASSISTANT_ARTICLES_DIR": str(root / "articles"),
        "ASSISTANT_CHROMA_DIR": str(root / "chroma"),
        "ASSISTANT_FEEDBACK_FILE": str(root / "feedback.jsonl"),
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "HF_HUB_OFFLINE": "1",
        "GRADIO_ANALYTICS_ENABLED": "False",
    }
    log = (root / "app.log").open("w")
    # run from the tmp folder so no .env or index of the checkout is picked up
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "app.py")], cwd=root, env=env, stdout=log, stderr=log
    )
    url = f"http://127.0.0.1:{port}"

    def read_log() -> str:
        return (root / "app.log").read_text()

    try:
        deadline = time.monotonic() + 180  # a busy 2-core machine starts Gradio slowly
        while True:
            if proc.poll() is not None:
                pytest.fail(f"app.py exited with {proc.returncode}:\n{read_log()}")
            if time.monotonic() > deadline:
                pytest.fail(f"app.py did not answer within 180 s:\n{read_log()}")
            try:
                if httpx.get(url, timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
    assert proc.returncode is not None


@pytest.fixture(scope="module")
def page(app_url: str) -> Page:
    """A reader's page on the app, driven over HTTP as the browser drives it."""
    return Page(app_url)


def text_of(message: dict[str, Any]) -> str:
    """A chat message's Markdown, as the page receives it (a list of parts)."""
    content = message["content"]
    if isinstance(content, str):
        return content
    return "".join(part["text"] for part in content if part.get("type") == "text")


def answer_of(result: Result) -> str:
    """The last chat message an answer event sent: the answer with its sources."""
    assert result.success, result.error
    return text_of(result.data[0][-1])


@pytest.mark.slow
def test_orban_gets_a_cited_answer(page: Page) -> None:
    message = answer_of(page.ask("What did Orban say?"))

    answer, sources = message.split("**Sources**")
    assert "frightening" in answer and f"[\\[1\\]](#passage-{SEED_ID}-" in answer
    assert f"[show passage](#passage-{SEED_ID}-" in sources
    # the extractive answer is the quote: shown once, with its paragraph for narrow screens
    assert "> Hungarian Prime Minister" not in sources
    assert '<details class="source-context">' in sources


@pytest.mark.slow
def test_scoped_to_the_seed_article(page: Page) -> None:
    message = answer_of(page.ask("How many troops is North Korea said to be preparing?", SEED_ID))

    assert "10,000" in message
    assert f"#passage-{SEED_ID}-" in message


@pytest.mark.slow
def test_macron_is_abstained(page: Page) -> None:
    message = answer_of(page.ask("What did Emmanuel Macron say?"))

    assert "**Sources**" not in message


@pytest.mark.slow
@pytest.mark.parametrize(
    ("question", "article", "message"),
    [
        ("", "", "the question is empty"),
        ("   \n\t ", "", "the question is empty"),
        ("x" * 1500, "", "the limit is 1,000"),
        # the picker's own check: the page offers only the indexed articles
        ("What did Orban say?", "no-such-article", "not in the list of choices"),
    ],
)
def test_bad_questions_get_a_clear_error(
    page: Page, question: str, article: str, message: str
) -> None:
    result = page.ask(question, article)

    assert not result.success and message in str(result.error)
    # the server is still up and answering
    assert "frightening" in answer_of(page.ask("What did Orban say?"))


@pytest.mark.slow
def test_a_huge_question_is_refused_before_it_is_read(page: Page) -> None:
    refused = page.join("check", ["x" * 100_000, None, ""])

    assert refused.status_code == 413
    assert "64 KiB" in refused.json()["detail"]  # what the page shows


@pytest.mark.slow
def test_a_long_question_typed_in_the_page_gets_the_limit_message(browser, app_url: str) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    tab = browser.new_page(viewport={"width": 1280, "height": 860})
    try:
        tab.goto(app_url)
        box = tab.get_by_placeholder("Ask a question about the article…")
        box.fill("x" * 1500)  # whole: the box does not cut it at the limit
        box.press("Enter")
        notice = tab.get_by_text("the limit is 1,000")
        notice.wait_for(timeout=30_000)

        assert "1,500 characters" in notice.inner_text()
        assert tab.get_by_text("The article does not say").count() == 0  # not answered
        assert len(box.input_value()) == 1500  # kept, for the reader to shorten
    finally:
        tab.close()


@pytest.mark.slow
def test_html_in_a_question_comes_back_as_data(page: Page) -> None:
    question = f"{XSS} What did Orban say?"

    result = page.ask(question)

    chat = result.data[0]
    assert text_of(chat[-2]) == escape_markdown(question)  # shown as text, not run
    assert "<script" not in json.dumps(chat) and "<img" not in json.dumps(chat)


@pytest.mark.slow
def test_the_page_loads_nothing_from_a_font_cdn(app_url: str) -> None:
    page = httpx.get(app_url, timeout=10)
    theme_css = httpx.get(f"{app_url}/theme.css", timeout=10)

    assert page.status_code == 200
    assert theme_css.status_code == 200
    for text in (page.text, theme_css.text):
        assert "fonts.googleapis" not in text
        assert "fonts.gstatic" not in text
    assert "system-ui" in theme_css.text
