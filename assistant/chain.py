"""The retrieval chain (a LangChain runnable: retriever feeding the answerer) and ``Assistant``."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from langchain_core.runnables import Runnable, RunnableLambda
from pydantic import ValidationError

from assistant import prompts
from assistant.answering import extractive, verify
from assistant.articles import article_files, load_articles, write_article
from assistant.errors import (
    ArticleError,
    IndexNotBuiltError,
    LLMError,
    QuestionError,
    UnknownArticleError,
)
from assistant.llm import build_chat_model
from assistant.retrieval import Hit, HybridRetriever, LexicalIndex, contextualize
from assistant.schemas import Answer, Article, Passage, Turn
from assistant.text import strip_control

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

    from assistant.config import Settings
    from assistant.embeddings import LocalEmbeddings
    from assistant.store import ArticleInfo, IndexReport, Store

logger = logging.getLogger(__name__)

#: earlier turns kept for follow-ups; older ones no longer help find "he" or "that"
MAX_HISTORY_TURNS = 6
#: how often (seconds) a shared Chroma server is checked for articles that other
#: processes added, replaced or removed. Every question: the check reads one small
#: record (about a millisecond), so other processes' changes show at once, and a server
#: that went away gives a 503 rather than answers from this process's cached vectors.
SHARED_REFRESH_S = 0.0


@dataclass(frozen=True)
class Request:
    """A checked question, ready for the chain."""

    question: str
    history: tuple[Turn, ...]
    article: str | None


@dataclass(frozen=True)
class Retrieved:
    """What the retrieval step hands the answerer."""

    request: Request
    query: str
    vector: np.ndarray
    #: the question's own vector; differs from ``vector`` for a follow-up, whose search
    #: query includes the previous question but whose answer must fit the new one
    question_vector: np.ndarray
    hits: list[Hit]
    #: the question as the language model rewrote it to stand alone (follow-ups only)
    standalone: str | None = None
    #: why the language model failed while rewriting; the answer then skips it
    llm_failure: str | None = None


@dataclass(frozen=True)
class Delta:
    """A piece of the answer as the language model writes it (a draft, not yet checked)."""

    text: str


@dataclass(frozen=True)
class Final:
    """The finished answer with its citations: the last event of ``Assistant.stream``."""

    answer: Answer


StreamEvent = Delta | Final


def clean_question(question: object, max_chars: int) -> str:
    """The question without control characters and outer whitespace; rejects unusable ones."""
    if not isinstance(question, str):
        raise QuestionError("the question must be text")
    text = strip_control(question).strip()
    if not text:
        raise QuestionError("the question is empty: type a question about the article")
    if len(text) > max_chars:
        raise QuestionError(
            f"the question is {len(text):,} characters long; the limit is {max_chars:,}"
        )
    return text


def clean_history(
    history: Sequence[Turn | dict[str, Any]] | None, max_chars: int
) -> tuple[Turn, ...]:
    """The last few turns as ``Turn`` objects; each turn's text is capped, not refused."""
    if not history:
        return ()
    turns: list[Turn] = []
    try:
        for item in history:
            turn = item if isinstance(item, Turn) else Turn.model_validate(item)
            content = strip_control(turn.content)[: max_chars * 4]
            turns.append(Turn(role=turn.role, content=content))
    except ValidationError as exc:
        raise QuestionError(
            'history must be a list of {"role": "user"|"assistant", "content": "..."}'
        ) from exc
    return tuple(turns[-MAX_HISTORY_TURNS:])


class Assistant:
    """Answers questions about the indexed articles; every front end calls ``ask``."""

    def __init__(
        self,
        settings: Settings,
        embeddings: LocalEmbeddings,
        store: Store,
        llm: BaseChatModel | None = None,
    ) -> None:
        self.settings = settings
        #: the language model answering (``ASSISTANT_LLM``); ``None``: the extractive answerer
        self.llm = llm if llm is not None else build_chat_model(settings)
        self.embeddings = embeddings
        self.store = store
        self.catalog: dict[str, ArticleInfo] = {}
        self.lexical = LexicalIndex([])
        self.retriever = HybridRetriever(store=store, embeddings=embeddings, lexical=self.lexical)
        self.chain: Runnable[Request, Answer] = self._build_chain()
        #: one writer at a time (the web app may add and remove articles concurrently)
        self._writing = threading.Lock()
        self._checked = time.monotonic()
        #: the store's write generation when it was last read in full (``refresh``)
        self._generation = ""

    @classmethod
    def from_settings(cls, settings: Settings) -> Assistant:
        """Open the index (building it from the articles folder when it is missing)."""
        from assistant.embeddings import load_embeddings
        from assistant.store import open_store

        prompts.check_all()
        embeddings = load_embeddings(settings)
        store = open_store(settings, embeddings)
        assistant = cls(settings, embeddings, store)
        if store.count() == 0:
            report = assistant.index()
            if not assistant.catalog:
                problems = "; ".join(str(e) for e in report.errors) or "no articles found"
                raise IndexNotBuiltError(
                    f"nothing to index in {settings.articles_dir} ({problems})"
                )
        else:
            assistant.refresh()
        return assistant

    # -- the index -----------------------------------------------------------------------

    def index(
        self, rebuild: bool = False, progress: Callable[[str], None] | None = None
    ) -> IndexReport:
        """Bring the store in line with the articles folder, then reload what answers use."""
        with self._writing:
            loaded = load_articles(self.settings.articles_dir)
            report = self.store.sync(
                loaded.articles, loaded.errors, rebuild=rebuild, progress=progress
            )
            self.refresh()
            return report

    def refresh(self) -> None:
        """Reload passages and the article list from the store (after it changed)."""
        # read first: a change made while the rest is read is then noticed next time
        self._generation = self.store.generation()
        self.store.forget_cached_vectors()
        catalog = self.store.catalog()
        self._use(catalog, self.lexical.rebuilt(self.store.passages()))

    def _reload_article(self, article_id: str) -> None:
        """Reload one article after it was added, replaced or removed; a large archive's
        other articles are not read again."""
        catalog = {k: v for k, v in self.catalog.items() if k != article_id}
        catalog.update(self.store.catalog(article_id))
        self._use(catalog, self.lexical.updated(article_id, self.store.passages(article_id)))

    def _use(self, catalog: dict[str, ArticleInfo], lexical: LexicalIndex) -> None:
        self.catalog = catalog
        self.lexical = lexical
        self.retriever = HybridRetriever(
            store=self.store,
            embeddings=self.embeddings,
            lexical=self.lexical,
            k=self.settings.top_k,
        )

    def add_article(self, article: Article) -> ArticleInfo:
        """Add or replace one article: saved in the articles folder and indexed at once."""
        # saved stripped, so indexed stripped: offsets must agree with what a re-read gives
        article = article.model_copy(
            update={"title": article.title.strip(), "body": article.body.strip()}
        )
        if not article.title or not article.body:
            raise ArticleError(f"article {article.id!r} needs a title and body text")
        with self._writing:
            write_article(self.settings.articles_dir, article)
            self.store.put(article)
            self._reload_article(article.id)
            return self.catalog[article.id]

    def remove_article(self, article_id: str) -> None:
        """Remove one article from the articles folder and the index."""
        with self._writing:
            if article_id not in self.catalog:
                raise UnknownArticleError(f"unknown article id {article_id!r}")
            for path in article_files(self.settings.articles_dir, article_id):
                path.unlink()
            self.store.delete(article_id)
            self._reload_article(article_id)

    def refresh_if_changed(self) -> None:
        """Pick up what another process changed: with a Chroma server, its writes (see
        ``SHARED_REFRESH_S``); with the embedded store, a store rebuilt in its folder (by
        `assistant index` after the old one was deleted or damaged), opened anew."""
        if not self.settings.chroma_url:
            if self.store.file_state() == "replaced":
                self._reopen()
            return
        if time.monotonic() - self._checked < SHARED_REFRESH_S:
            return
        self._checked = time.monotonic()
        # one small record read, not the whole catalog (which a large archive makes slow)
        generation = self.store.generation()
        if generation != self._generation:
            with self._writing:
                if generation != self._generation:  # not refreshed while this one waited
                    self.refresh()

    def _reopen(self) -> None:
        from assistant.store import reopen_store

        with self._writing:
            if self.store.file_state() != "replaced":  # reopened while this one waited
                return
            logger.info("the store in %s was rebuilt; opening it", self.settings.chroma_dir)
            self.store = reopen_store(self.settings, self.embeddings)
            self.refresh()

    def articles(self) -> list[ArticleInfo]:
        """Indexed articles, by title."""
        return sorted(self.catalog.values(), key=lambda a: a.title.lower())

    def article_passages(self, article_id: str) -> list[Passage]:
        """One article's passages in reading order (for showing the article with highlights)."""
        if article_id not in self.catalog:
            raise UnknownArticleError(f"unknown article id {article_id!r}")
        return self.lexical.scope(article_id)

    # -- answering -----------------------------------------------------------------------

    def _build_chain(self) -> Runnable[Request, Answer]:
        # named at construction, not with ``with_config``: that wraps each step in a
        # RunnableBinding whose config merge costs about 0.15 ms a question
        retrieve = RunnableLambda(self._retrieve, name="retrieve")
        if self.llm is None:
            answer = RunnableLambda(self._answer_extractive, name="answer_extractive")
        else:
            answer = RunnableLambda(self._answer_generative, name="answer_generative")
        return retrieve | answer

    def _retrieve(self, request: Request) -> Retrieved:
        standalone, failure = self._standalone(request)
        query = standalone or contextualize(request.question, request.history)
        if query == request.question:
            vector = question_vector = self.embeddings.query_vector(query)
        else:
            vector, question_vector = self.embeddings.encode([query, request.question])
        hits = self.retriever.scoped(request.article).search(query, vector)
        return Retrieved(request, query, vector, question_vector, hits, standalone, failure)

    def _standalone(self, request: Request) -> tuple[str | None, str | None]:
        """A follow-up rewritten by the language model, and why that failed (if it did)."""
        if self.llm is None or not request.history:
            return None, None
        from assistant.answering import generative  # LLM mode only: it imports prompt classes

        try:
            return generative.rewrite(self.llm, request.question, request.history), None
        except LLMError as exc:
            logger.warning("the language model could not rewrite a follow-up: %s", exc)
            return None, str(exc)

    def _answer_generative(self, state: Retrieved) -> Answer:
        """The language model's answer, checked against its citations; else the extractive one."""
        if self.llm is None or state.llm_failure or not state.hits:
            # no model, a model already found failing, or nothing to answer from
            return self._fallback(state, state.llm_failure)
        question = state.standalone or state.request.question
        from assistant.answering import generative

        try:
            draft = generative.generate(self.llm, question, [h.passage for h in state.hits])
            return self._verified(state, draft)
        except LLMError as exc:
            return self._fallback(state, str(exc))

    def _verified(self, state: Retrieved, draft: str) -> Answer:
        """The answer from a model's draft: verified, cited; ``LLMError`` when none survives."""
        from assistant.answering import generative
        from assistant.store import sentence_id

        request = state.request
        retrieved = extractive.retrieved(state.hits)
        if generative.is_abstention(draft):
            text = self._refusal_text(extractive.Refusal("no_match"), request.article)
            return Answer(
                question=request.question,
                answer=text,
                abstained=True,
                mode="generative",
                passages=retrieved,
            )
        passages = [h.passage for h in state.hits]
        stored = self.store.sentence_vectors(passages)
        vectors = {
            (p.passage_id, j): stored[sentence_id(p.passage_id, j)]
            for p in passages
            for j in range(len(p.sentences))
            if sentence_id(p.passage_id, j) in stored
        }
        cited = {p.article_id for p in passages} & set(self.catalog)
        links = {a: (self.catalog[a].title, self.catalog[a].url) for a in cited}
        result = verify.verify(draft, passages, vectors, self.embeddings.encode, links)
        if not result.citations:
            raise LLMError(
                "the language model's answer was not supported by the article"
                if result.checks
                else "the language model returned no usable answer"
            )
        if result.removed:
            logger.info("removed %d unsupported sentence(s)", len(result.removed))
        return Answer(
            question=request.question,
            answer=result.text,
            abstained=False,
            mode="generative",
            citations=list(result.citations),
            passages=retrieved,
            supported_sentence_rate=result.supported_sentence_rate,
            removed_sentences=result.removed,
        )

    def _fallback(self, state: Retrieved, reason: str | None) -> Answer:
        """The extractive answer, marked as standing in for the model's (when it failed)."""
        answer = self._answer_extractive(state)
        if reason is None:
            return answer
        logger.warning("answering extractively: %s", reason)
        return answer.model_copy(update={"mode": "extractive-fallback", "fallback_reason": reason})

    def _answer_extractive(self, state: Retrieved) -> Answer:
        request = state.request
        sentence_vectors = self.store.sentence_vectors([h.passage for h in state.hits])
        previous = next((t.content for t in reversed(request.history) if t.role == "user"), "")
        # "Where did he say it, and why was he there?": each part gets its own sentence;
        # a later part is read with the first, where its "he" and "there" are found
        parts = extractive.split_question(request.question)
        contexts = [state.query] + [f"{parts[0]} {part}" for part in parts[1:]]
        vectors = [state.question_vector]
        if len(parts) > 1:
            vectors += list(self.embeddings.encode(contexts[1:]))
        chosen: dict[tuple[str, int], extractive.Candidate] = {}
        refusals: list[extractive.Refusal] = []
        for part, context, vector in zip(parts, contexts, vectors, strict=True):
            candidates = extractive.score_sentences(
                part, context, state.hits, vector, sentence_vectors, self.lexical, request.article
            )
            refusal = extractive.refusal_reason(part, candidates, self.lexical, request.article)
            best = extractive.pick_best(part, candidates)
            if refusal is not None or best is None:
                refusals.append(refusal or extractive.Refusal("no_match"))
                continue
            for c in extractive.choose(part, candidates, best, previous or parts[0]):
                chosen.setdefault((c.passage.passage_id, c.index), c)
        passages = extractive.retrieved(state.hits)
        if not chosen:
            return Answer(
                question=request.question,
                answer=self._refusal_text(refusals[0], request.article),
                abstained=True,
                passages=passages,
            )
        # only the cited articles: the catalog may hold thousands
        cited = {c.passage.article_id for c in chosen.values()} & set(self.catalog)
        links = {a: (self.catalog[a].title, self.catalog[a].url) for a in cited}
        text, citations = extractive.cite(sorted(chosen.values(), key=extractive.position), links)
        return Answer(
            question=request.question,
            answer=text,
            abstained=False,
            citations=citations,
            passages=passages,
        )

    def _refusal_text(self, refusal: extractive.Refusal, article: str | None) -> str:
        scope = [self.catalog[article]] if article else self.articles()
        covers = ", ".join(f"“{a.title}”" for a in scope[:3]) + (
            " and more" if len(scope) > 3 else ""
        )
        if refusal.names:
            return prompts.render(
                f"refusal_{refusal.reason}", names=" or ".join(refusal.names), covers=covers
            )
        return prompts.render("refusal_no_match", covers=covers)

    def check(
        self,
        question: object,
        history: Sequence[Turn | dict[str, Any]] | None = None,
        article: str | None = None,
    ) -> Request:
        """Validate a question before it reaches the chain (raises ``AssistantError``s)."""
        limit = self.settings.max_question_chars
        text = clean_question(question, limit)
        if article is not None and article not in self.catalog:
            raise UnknownArticleError(
                f"unknown article id {article!r}; `assistant index` lists what is indexed"
            )
        return Request(text, clean_history(history, limit), article)

    def ask(
        self,
        question: str,
        history: Sequence[Turn | dict[str, Any]] | None = None,
        article: str | None = None,
    ) -> Answer:
        """Answer one question, optionally in a conversation and scoped to one article."""
        started = time.perf_counter()
        self.refresh_if_changed()
        answer = self.chain.invoke(self.check(question, history, article))
        answer.latency_ms = round((time.perf_counter() - started) * 1000, 2)
        return answer

    def stream(
        self,
        question: str,
        history: Sequence[Turn | dict[str, Any]] | None = None,
        article: str | None = None,
    ) -> Iterator[StreamEvent]:
        """Answer like ``ask``, as events: the model's draft in ``Delta``s, then a ``Final``.

        The question is checked and the passages retrieved before this returns, so the
        errors a caller reports (a bad question, a store that went away) are raised here,
        not by the iterator. The iterator never raises for the model: a failing model ends
        in the extractive answer, as ``ask`` does. The extractive answerer sends no deltas.
        """
        started = time.perf_counter()
        self.refresh_if_changed()
        state = self._retrieve(self.check(question, history, article))
        return self._stream_answer(state, started)

    def _stream_answer(self, state: Retrieved, started: float) -> Iterator[StreamEvent]:
        if self.llm is None:
            answer = self._answer_extractive(state)
        elif state.llm_failure or not state.hits:
            answer = self._answer_generative(state)
        else:
            from assistant.answering import generative

            question = state.standalone or state.request.question
            draft = generative.DraftStream(self.llm, question, [h.passage for h in state.hits])
            try:
                for piece in draft:
                    yield Delta(piece)
                answer = self._verified(state, generative.check_draft(draft.text))
            except LLMError as exc:
                answer = self._fallback(state, str(exc))
        answer.latency_ms = round((time.perf_counter() - started) * 1000, 2)
        yield Final(answer)
