"""The Gradio UI: a chat about the articles, its sources, the cited article and feedback.

Text from readers and articles is never rendered as HTML: chat messages go through
``escape_markdown`` and the article panel through ``escape_html``. The UI only builds the
Gradio app; ``server.py`` mounts it beside the API and serves both.
"""

from __future__ import annotations

import html
import re
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit, urlunsplit

import gradio as gr
from gradio.helpers import Examples

from assistant.errors import AssistantError
from assistant.feedback import record_feedback
from assistant.schemas import Answer, Citation, Delta, Passage
from assistant.suggestions import Suggestions

if TYPE_CHECKING:
    from assistant.chain import Assistant
    from assistant.store import ArticleInfo

#: the page's script for inline citations (hover, focus and click on "[n]")
CITES_SCRIPT = Path(__file__).resolve().parent / "static" / "ui_cites.js"

#: the screen width (CSS px) below which the page is one column
NARROW_PX = 768

#: the picker's value for "no scope"
ALL_ARTICLES = ""

#: the extractive answer arrives whole; it is sent in this many pieces at most
STREAM_CHUNKS = 12
#: pause between pieces so the browser paints each one (a few ms, not a typing act)
STREAM_PAUSE_S = 0.004

#: a text fragment names this many words at each end of a long quote
FRAGMENT_WORDS = 5

#: the concurrency group of the events that ask the assistant a question (the server counts
#: them against the client's question limit, as it counts ``/api/ask``)
QUESTIONS = "assistant"
#: the group of the events that record feedback (counted against a limit of their own)
FEEDBACK = "feedback"

#: system fonts only, so the page fetches no font from anywhere
SANS = ["system-ui", "-apple-system", "Segoe UI", "Roboto", "Helvetica Neue", "Arial", "sans-serif"]
MONO = ["ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "monospace"]

CSS = """
#article-panel .html-container { padding-top: 0; }
.article-view { max-height: 640px; overflow-y: auto; padding: 0.75rem 1rem;
  border: 1px solid var(--border-color-primary); border-radius: var(--radius-lg);
  background: var(--block-background-fill); font-size: 0.95rem; line-height: 1.55; }
.article-view:focus-visible { outline: 2px solid #1f4e8c; outline-offset: 2px; }
.article-view .article-head { position: sticky; top: -0.75rem; z-index: 1;
  margin: -0.75rem -1rem 0.75rem -1rem; padding: 0.75rem 1rem 0.5rem 1rem;
  background: var(--block-background-fill);
  border-bottom: 1px solid var(--border-color-primary); }
.article-view h2 { font-size: 1.15rem; margin: 0; }
.article-view .meta { color: var(--body-text-color-subdued); margin: 0.25rem 0 0 0;
  font-size: 0.85rem; }
.article-view .passage { margin: 0 0 0.7rem 0; padding: 0.15rem 0.5rem;
  border-left: 3px solid transparent; scroll-margin-top: 6rem; }
.article-view .passage.cited { border-left-color: #c2410c; }
.article-view .passage:target, .article-view .passage.flash { background: #fff3c4; }
.article-view mark { background: #fde68a; color: inherit; padding: 0 0.1rem;
  border-radius: 2px; }
.article-view mark.flash { outline: 2px solid #9a3412; }
.article-view .cite-n { color: #9a3412; font-weight: 600; font-size: 0.75em;
  margin-left: 0.1rem; }
#chat a.cite-ref, #chat a[title] { font-weight: 600; text-decoration: none;
  padding: 0 0.1rem; border-radius: 3px; }
#chat a[title]:hover, #chat a[title]:focus-visible { background: #fde68a; }
#chat details.source-context { margin: 0.4rem 0 0 0; }
#chat details.source-context summary { cursor: pointer; }
#chat details.source-context mark { background: #fde68a; color: inherit; }
#cite-tip { position: fixed; z-index: 1000; max-width: min(28rem, 90vw);
  background: #1b1f24; color: #fff; padding: 0.5rem 0.7rem; border-radius: 6px;
  font-size: 0.9rem; line-height: 1.4; box-shadow: 0 4px 16px rgba(0, 0, 0, 0.25);
  pointer-events: none; }
#cite-tip[hidden] { display: none; }
@media (min-width: 769px) { #chat details.source-context { display: none; } }
/* one column: the article follows the conversation (and the questions it suggests) */
@media (max-width: 768px) {
  #main-row { flex-direction: column; flex-wrap: nowrap; }
  #chat-col, #panel-col { display: contents; }
  #chat-col > :has(#article-picker) { order: 1; } #chat { order: 2; }
  #chat-col > :has(#question) { order: 3; } #suggestions { order: 4; }
  #article-panel { order: 5; }
  .article-view { max-height: 70vh; }
}
"""

# scrolls the article panel (not the page) to the first cited passage whenever it changes
REVEAL_JS = """
const reveal = () => {
  const box = element.querySelector('.article-view');
  if (!box) return;
  const cited = box.querySelector('.passage.cited');
  const head = box.querySelector('.article-head');
  const room = (head ? head.offsetHeight : 0) + 8;
  box.scrollTop = cited
    ? box.scrollTop + cited.getBoundingClientRect().top - box.getBoundingClientRect().top - room
    : 0;
};
watch('value', reveal);
reveal();
"""


@cache
def panel_script() -> str:
    """The article panel's script: reveal the cited passage, and make "[n]" in the chat
    show its quote (hover, focus) and its sentence in the panel (click)."""
    return REVEAL_JS + CITES_SCRIPT.read_text(encoding="utf-8")


@dataclass(frozen=True)
class Exchange:
    """One question of a conversation and the answer it got."""

    question: str
    answer: Answer
    article: str | None


# -- rendering (pure functions, unit-tested) ----------------------------------------------

# Markdown syntax that works anywhere in a line; "<", ">" and "&" are left to html.escape,
# and "(", "!" need no escape once "[" has one (no link or image can start)
_MARKDOWN_INLINE = re.compile(r"([\\`*_\[\]#|~$])")
# syntax that only works at the start of a line: lists, setext headings
_MARKDOWN_LINE_START = re.compile(r"^(\s*)([-+=]|\d+(?=[.)]))", re.MULTILINE)
# characters that mean something to gr.HTML's template engine (JS template, Handlebars)
_TEMPLATE_SPECIAL = str.maketrans({"{": "&#123;", "}": "&#125;", "$": "&#36;", "`": "&#96;"})


def escape_markdown(text: str) -> str:
    """``text`` shown literally in a Markdown message: no HTML, no formatting, no links."""
    text = _MARKDOWN_INLINE.sub(r"\\\1", text)
    # "\-" for a bullet, "1\." for a number: a backslash only escapes punctuation
    text = _MARKDOWN_LINE_START.sub(
        lambda m: m[1] + (m[2] + "\\" if m[2][0].isdigit() else "\\" + m[2]), text
    )
    return html.escape(text, quote=False)


def escape_html(text: str) -> str:
    """``text`` shown literally inside HTML (elements, attributes and gr.HTML templates)."""
    return html.escape(text, quote=True).translate(_TEMPLATE_SPECIAL)


def passage_anchor(passage_id: str) -> str:
    """The HTML id of a passage in the article panel."""
    return "passage-" + re.sub(r"[^A-Za-z0-9_-]+", "-", passage_id)


def _fragment_term(text: str) -> str:
    # "-" and "," are syntax inside a text fragment, so they are percent-encoded too
    return quote(text, safe="").replace("-", "%2D")


def text_fragment(quote_text: str) -> str:
    """A ``:~:text=`` fragment that makes browsers scroll to and highlight ``quote_text``."""
    words = quote_text.split()
    if len(words) <= 2 * FRAGMENT_WORDS:
        return ":~:text=" + _fragment_term(" ".join(words))
    start = " ".join(words[:FRAGMENT_WORDS])
    end = " ".join(words[-FRAGMENT_WORDS:])
    return f":~:text={_fragment_term(start)},{_fragment_term(end)}"


def web_url(url: str | None) -> str | None:
    """``url`` when it is an http(s) address, encoded so it is safe in Markdown and HTML."""
    if not url:
        return None
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    # spaces, quotes, brackets and parentheses would end a Markdown link or an attribute
    return quote(urlunsplit(parts._replace(fragment="")), safe=":/?&=%@+,;~!$")


def citation_link(citation: Citation) -> str:
    """Where a source points: the article page at the quote, else the passage in the panel."""
    base = web_url(citation.url)
    if base:
        return f"{base}#{text_fragment(citation.quote)}"
    return f"#{passage_anchor(citation.passage_id)}"


#: a citation marker in an answer's text
_MARKER = re.compile(r"\[(\d+)\]")


def _folded(text: str) -> str:
    return " ".join(_MARKER.sub(" ", text).split())


def quoted_in_answer(citation: Citation, answer_text: str) -> bool:
    """Whether the answer's text already holds the quote (the extractive answer quotes it):
    then the quote is not shown a second time under it."""
    return _folded(citation.quote) in _folded(answer_text)


def citation_ref(citation: Citation) -> str:
    """An inline "[n]" as a Markdown link to the passage; its title is the quote, which the
    page shows on hover or focus (``ui_cites.js``)."""
    title = escape_html(" ".join(citation.quote.split())).replace("\\", "&#92;")
    return f'[\\[{citation.n}\\]](#{passage_anchor(citation.passage_id)} "{title}")'


def render_answer_text(text: str, citations: Sequence[Citation]) -> str:
    """The answer's text, escaped, with each "[n]" that has a citation a link to it."""
    by_n = {c.n: c for c in citations}
    out: list[str] = []
    cursor = 0
    for match in _MARKER.finditer(text):
        cited = by_n.get(int(match[1]))
        if cited is None:
            continue
        out += [escape_markdown(text[cursor : match.start()]), citation_ref(cited)]
        cursor = match.end()
    out.append(escape_markdown(text[cursor:]))
    return "".join(out)


def render_context(citation: Citation, passage: Passage) -> str:
    """The cited sentence in its paragraph, folded under the answer (shown on narrow
    screens, where the article panel is far below)."""
    spans = [(citation.start, citation.end, citation.n)]
    body = _highlight(passage.text, passage.start, spans).replace('<sup class="cite-n">', "<sup>")
    return (
        f'<details class="source-context"><summary>Source [{citation.n}] in its paragraph'
        f"</summary><p>{body}</p></details>"
    )


def render_sources(
    citations: Sequence[Citation],
    answer_text: str = "",
    context: Mapping[str, Passage] | None = None,
) -> str:
    """Markdown listing each citation: number, article title, link and the quote (left out
    when the answer is that quote), and the paragraph it sits in when ``context`` has it."""
    if not citations:
        return ""
    lines = ["**Sources**"]
    for c in citations:
        quote_text = " ".join(c.quote.split())
        lines += [
            "",
            f"**\\[{c.n}\\]** *{escape_markdown(c.article_title)}* · "
            f"[show passage]({citation_link(c)})",
        ]
        if not quoted_in_answer(c, answer_text):
            lines.append(f"> {escape_markdown(quote_text)}")
        passage = (context or {}).get(c.passage_id)
        if passage is not None:
            lines += ["", render_context(c, passage)]
    return "\n".join(lines)


def render_note(answer: Answer) -> str:
    """A line under the answer saying how it was made (``Answer.note``), when there is one."""
    return f"*{escape_markdown(answer.note)}*" if answer.note else ""


def render_answer(
    answer: Answer, text: str | None = None, context: Mapping[str, Passage] | None = None
) -> str:
    """The assistant's chat message: the answer (or a streamed prefix of it, plain), then
    its sources; ``context`` (passage id to passage) adds each quote's paragraph."""
    if text is not None:
        return escape_markdown(text)
    parts = [
        render_answer_text(answer.answer, answer.citations),
        render_note(answer),
        render_sources(answer.citations, answer.answer, context),
    ]
    return "\n\n".join(part for part in parts if part)


def chat_messages(
    exchanges: Sequence[Exchange], context: Mapping[str, Passage] | None = None
) -> list[dict[str, str]]:
    """The chat as Gradio messages: user, assistant, user, ... (index 2k+1 is answer k)."""
    messages: list[dict[str, str]] = []
    for ex in exchanges:
        messages.append({"role": "user", "content": escape_markdown(ex.question)})
        messages.append({"role": "assistant", "content": render_answer(ex.answer, None, context)})
    return messages


def conversation(exchanges: Sequence[Exchange]) -> list[dict[str, str]]:
    """The history ``Assistant.ask`` takes: plain-text user and assistant turns."""
    turns: list[dict[str, str]] = []
    for ex in exchanges:
        turns.append({"role": "user", "content": ex.question})
        turns.append({"role": "assistant", "content": ex.answer.answer})
    return turns


def stream_pieces(text: str, chunks: int = STREAM_CHUNKS) -> Iterator[str]:
    """Growing prefixes of ``text``, cut between words, ending with ``text`` itself."""
    words = re.findall(r"\s*\S+", text)
    step = max(1, -(-len(words) // chunks))
    for i in range(step, len(words) + step, step):
        yield "".join(words[:i])


def _highlight(text: str, offset: int, spans: Sequence[tuple[int, int, int]]) -> str:
    """``text`` escaped, with each (start, end, n) span (body offsets) in a ``<mark>``."""
    out: list[str] = []
    cursor = 0
    for start, end, n in sorted(spans):
        s, e = max(start - offset, cursor), min(end - offset, len(text))
        if s >= e:  # overlaps a span already marked
            continue
        out.append(escape_html(text[cursor:s]))
        out.append(f'<mark title="Source [{n}]">{escape_html(text[s:e])}</mark>')
        out.append(f'<sup class="cite-n">[{n}]</sup>')
        cursor = e
    out.append(escape_html(text[cursor:]))
    return "".join(out)


def render_article(
    article: ArticleInfo, passages: Sequence[Passage], citations: Sequence[Citation] = ()
) -> str:
    """The article as HTML: each passage anchored, cited sentences marked, all text escaped."""
    spans = [(c.start, c.end, c.n) for c in citations if c.article_id == article.id]
    parts = [
        # focusable, so a keyboard can scroll it; named, so a screen reader can find it
        f'<div class="article-view" tabindex="0" role="region" '
        f'aria-label="Article: {escape_html(article.title)}">',
        '<div class="article-head">',
        f"<h2>{escape_html(article.title)}</h2>",
    ]
    meta: list[str] = []
    if article.published:
        meta.append(escape_html(article.published))
    url = web_url(article.url)
    if url:
        meta.append(
            f'<a href="{escape_html(url)}" target="_blank" rel="noopener noreferrer">'
            "original article</a>"
        )
    if meta:
        parts.append(f'<p class="meta">{" · ".join(meta)}</p>')
    parts.append("</div>")
    for p in passages:
        inside = [(s, e, n) for s, e, n in spans if s < p.end and e > p.start]
        css = "passage cited" if inside else "passage"
        parts.append(
            f'<p id="{passage_anchor(p.passage_id)}" class="{css}">'
            f"{_highlight(p.text, p.start, inside)}</p>"
        )
    parts.append("</div>")
    return "\n".join(parts)


def render_notice(text: str) -> str:
    """A short message in the article panel."""
    return (
        '<div class="article-view" tabindex="0" role="region" aria-label="Article">'
        f'<p class="meta">{escape_html(text)}</p></div>'
    )


# -- the app -------------------------------------------------------------------------------


def _article_choices(articles: Sequence[ArticleInfo]) -> list[tuple[str, str]]:
    return [("All articles", ALL_ARTICLES)] + [(a.title, a.id) for a in articles]


class ChatEvents:
    """The UI's event handlers around one assistant; Gradio names each event after its method."""

    def __init__(self, assistant: Assistant) -> None:
        self.assistant = assistant
        self.suggestions = Suggestions(assistant)

    def shown_article(self, exchanges: Sequence[Exchange], choice: str | None) -> str | None:
        """The picked article, else the one cited last, else the first one."""
        if choice:
            return choice
        for ex in reversed(exchanges):
            if ex.answer.citations:
                return ex.answer.citations[0].article_id
        articles = self.assistant.articles()
        return articles[0].id if articles else None

    def panel(self, exchanges: Sequence[Exchange], choice: str | None) -> str:
        """The article panel's HTML: the shown article, the last answer's quotes marked."""
        article_id = self.shown_article(exchanges, choice)
        info = self.assistant.catalog.get(article_id) if article_id else None
        if info is None:
            return render_notice("No article is indexed yet.")
        citations = exchanges[-1].answer.citations if exchanges else []
        return render_article(info, self.assistant.article_passages(info.id), citations)

    def context(self, exchanges: Sequence[Exchange]) -> dict[str, Passage]:
        """The passages the answers cite, by id (their paragraphs show under the answers)."""
        cited = {c.article_id for ex in exchanges for c in ex.answer.citations}
        found: dict[str, Passage] = {}
        for article_id in cited & set(self.assistant.catalog):
            found |= {p.passage_id: p for p in self.assistant.article_passages(article_id)}
        return found

    def messages(self, exchanges: Sequence[Exchange]) -> list[dict[str, str]]:
        """The chat's messages, each answer with its sources and their paragraphs."""
        return chat_messages(exchanges, self.context(exchanges))

    def suggested(self, exchanges: Sequence[Exchange], choice: str | None) -> Any:
        """Questions the shown article answers: offered on an empty chat and under a refusal."""
        wanted = not exchanges or exchanges[-1].answer.abstained
        article_id = self.shown_article(exchanges, choice)
        questions = self.suggestions.for_article(article_id) if wanted and article_id else []
        return gr.Dataset(samples=[[q] for q in questions], visible=bool(questions))

    def check(self, question: str, exchanges: list[Exchange], choice: str | None) -> None:
        """Refuse a bad question before the chat changes; the error shows as a notice only."""
        try:
            self.assistant.check(question, conversation(exchanges), choice or None)
        except AssistantError as exc:
            raise gr.Error(str(exc)) from exc

    def respond(
        self, question: str, exchanges: list[Exchange], choice: str | None
    ) -> Iterator[tuple[Any, ...]]:
        """The chat as the answer is written, then with its sources, the panel and the
        questions to suggest (under a refusal)."""
        article = choice or None
        try:
            # stream() checks the question (empty, too long, unknown article) on the server
            events = self.assistant.stream(
                question, history=conversation(exchanges), article=article
            )
        except AssistantError as exc:
            raise gr.Error(str(exc)) from exc
        asked = self.messages(exchanges) + [
            {"role": "user", "content": escape_markdown(question.strip())}
        ]
        keep = (gr.skip(), gr.skip(), "", gr.Dataset(visible=False))
        draft = ""
        answer: Answer | None = None
        for event in events:
            if isinstance(event, Delta):  # a language model's draft, as it is written
                draft += event.text
                yield asked + [{"role": "assistant", "content": escape_markdown(draft)}], *keep
            else:
                answer = event.answer
        assert answer is not None  # a stream always ends with the answer
        if not draft:  # the extractive answer arrives whole: shown in pieces all the same
            for piece in stream_pieces(answer.answer):
                reply = {"role": "assistant", "content": render_answer(answer, piece)}
                yield asked + [reply], *keep
                time.sleep(STREAM_PAUSE_S)
        done = [*exchanges, Exchange(answer.question, answer, article)]
        yield (
            self.messages(done),
            done,
            self.panel(done, choice),
            "",
            self.suggested(done, choice),
        )

    def on_like(self, exchanges: list[Exchange], data: gr.LikeData) -> None:
        """Record a thumbs up or down on a finished answer."""
        if data.liked not in (True, False):  # a vote taken back: nothing to record
            return
        index = data.index[0] if isinstance(data.index, list) and data.index else data.index
        # the page sends the index; anything but a finished answer's is ignored
        if type(index) is not int or index % 2 == 0 or not 0 <= index // 2 < len(exchanges):
            return
        ex = exchanges[index // 2]
        try:
            record_feedback(
                self.assistant.settings.feedback_file,
                question=ex.question,
                answer=ex.answer,
                rating="up" if data.liked else "down",
                article=ex.article,
            )
        except OSError as exc:
            raise gr.Error(f"Your feedback could not be saved ({exc.strerror}).") from exc
        gr.Info("Thanks for your feedback.")

    def on_load(self, choice: str | None) -> tuple[Any, str, Any]:
        """The picker, the panel and the suggestions as the page opens: articles may have
        been added since."""
        articles = self.assistant.articles()
        picker_update = gr.Dropdown(choices=_article_choices(articles), visible=len(articles) > 1)
        return picker_update, self.panel([], choice), self.suggested([], choice)

    def new_conversation(self, choice: str | None) -> tuple[list[Exchange], str, Any]:
        """A cleared chat: no exchanges, the panel without marks, questions to start with."""
        return [], self.panel([], choice), self.suggested([], choice)

    def picked(self, exchanges: list[Exchange], choice: str | None) -> tuple[str, Any]:
        """Another article picked: its panel, and its questions when they are wanted."""
        return self.panel(exchanges, choice), self.suggested(exchanges, choice)


@dataclass(frozen=True)
class _Components:
    """The components the events read and write."""

    exchanges: gr.State
    picker: gr.Dropdown
    chatbot: gr.Chatbot
    question: gr.Textbox
    examples: Examples  # gr.Examples is the function that makes one
    article_panel: gr.HTML


INTRO = (
    "# Ask about the article\n"
    "Answers quote the article word for word. Point at a source number such as [1] to read "
    "the quote; choose it to see the sentence highlighted in the article, beside the chat "
    "(below it on a phone)."
)


def _chat_column(events: ChatEvents, articles: Sequence[ArticleInfo]) -> tuple[Any, ...]:
    """The left column: the picker, the conversation, the question box, the suggestions."""
    picker = gr.Dropdown(
        choices=_article_choices(articles),
        value=ALL_ARTICLES,
        label="Article",
        visible=len(articles) > 1,
        interactive=True,
        elem_id="article-picker",
    )
    chatbot = gr.Chatbot(
        label="Conversation",
        height=520,
        layout="bubble",
        latex_delimiters=[],  # "$" in news text is money, not maths
        sanitize_html=True,
        allow_tags=False,
        buttons=["copy"],
        feedback_options=["Like", "Dislike"],
        placeholder="Ask a question about the article, or pick one of the questions below.",
        elem_id="chat",
    )
    question = gr.Textbox(
        show_label=False,
        # no max_length: the browser would cut a long question short, and the
        # reader get an answer to half of it instead of the limit's message
        placeholder="Ask a question about the article…",
        submit_btn="Ask",
        autofocus=True,
        elem_id="question",
    )
    first = articles[0].id if articles else None
    examples = gr.Examples(
        # questions the article answers, from its own sentences (suggestions.py); the
        # page updates them for the article shown, on an empty chat and under a refusal
        examples=[[q] for q in (events.suggestions.for_article(first) if first else [])] or [[""]],
        inputs=[question],
        label="Questions this article answers",
        api_visibility="private",
        elem_id="suggestions",
    )
    return picker, chatbot, question, examples


def _layout(events: ChatEvents, articles: Sequence[ArticleInfo]) -> _Components:
    """The page's components, laid out inside the ``gr.Blocks`` being built."""
    exchanges = gr.State([])
    gr.Markdown(INTRO)
    with gr.Row(equal_height=False, elem_id="main-row"):
        with gr.Column(scale=3, min_width=360, elem_id="chat-col"):
            picker, chatbot, question, examples = _chat_column(events, articles)
        with gr.Column(scale=2, min_width=320, elem_id="panel-col"):
            article_panel = gr.HTML(
                events.panel([], ALL_ARTICLES), elem_id="article-panel", js_on_load=panel_script()
            )
    return _Components(exchanges, picker, chatbot, question, examples, article_panel)


def _wire(demo: gr.Blocks, events: ChatEvents, c: _Components) -> None:
    """Connect the components' events to their handlers; none is part of an API."""
    private: dict[str, Any] = {"api_visibility": "private"}
    chat_inputs = [c.question, c.exchanges, c.picker]
    suggestions = c.examples.dataset
    for trigger in (c.question.submit, c.examples.load_input_event.then):
        trigger(events.check, inputs=chat_inputs, outputs=None, **private).success(
            events.respond,
            inputs=chat_inputs,
            outputs=[c.chatbot, c.exchanges, c.article_panel, c.question, suggestions],
            concurrency_id=QUESTIONS,
            show_progress="minimal",
            # on the chat, not on the question box, where it would cover the Ask button
            show_progress_on=[c.chatbot],
            **private,
        )
    c.chatbot.like(
        events.on_like, inputs=[c.exchanges], outputs=None, concurrency_id=FEEDBACK, **private
    )
    c.chatbot.clear(
        events.new_conversation,
        inputs=[c.picker],
        outputs=[c.exchanges, c.article_panel, suggestions],
        **private,
    )
    c.picker.change(
        events.picked,
        inputs=[c.exchanges, c.picker],
        outputs=[c.article_panel, suggestions],
        **private,
    )
    demo.load(
        events.on_load,
        inputs=[c.picker],
        outputs=[c.picker, c.article_panel, suggestions],
        **private,
    )


def build_ui(assistant: Assistant) -> gr.Blocks:
    """The Gradio app around ``assistant`` (not launched)."""
    events = ChatEvents(assistant)
    with gr.Blocks(title="Article assistant", analytics_enabled=False) as demo:
        _wire(demo, events, _layout(events, assistant.articles()))
    # Assistant.ask only reads the shared model and store, so a few may run at once
    demo.queue(default_concurrency_limit=4)
    return demo


def theme() -> gr.themes.Base:
    """The page's look: Gradio's default colours with system fonts."""
    return gr.themes.Default(font=SANS, font_mono=MONO)
