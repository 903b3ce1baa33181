"""``Assistant``: check the question, retrieve, answer; every front end calls it.

The parts it joins live elsewhere: the knowledge base (``knowledge.py``: the store, the
catalog, the lexical index and their writes), the retriever (``retrieval.py``) and the
answerers (``answering/``: extractive, or a language model's with the extractive one as
its fallback). As a LangChain runnable the chain is ``retrieve | answer`` (``chain``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from assistant import prompts
from assistant.answering.base import Answerer, Request, Retrieved, final_answer
from assistant.answering.extractive import ExtractiveAnswerer
from assistant.errors import IndexNotBuiltError, QuestionError, UnknownArticleError
from assistant.knowledge import KnowledgeBase, Snapshot
from assistant.lexical import LexicalIndex
from assistant.llm import build_chat_model
from assistant.retrieval import HybridRetriever, contextualize

# re-exported: the web layer and the tests import these from here
from assistant.schemas import Answer, Article, ArticleInfo, Passage, Turn
from assistant.schemas import Delta as Delta
from assistant.schemas import Final as Final
from assistant.schemas import StreamEvent as StreamEvent
from assistant.startup import in_background
from assistant.text import strip_control

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel
    from langchain_core.runnables import Runnable

    from assistant.answering.generative import GenerativeAnswerer
    from assistant.config import Settings
    from assistant.embeddings import LocalEmbeddings
    from assistant.store import IndexReport, Store

logger = logging.getLogger(__name__)

#: earlier turns kept for follow-ups; older ones no longer help find "he" or "that"
MAX_HISTORY_TURNS = 6

__all__ = ["Assistant", "Delta", "Final", "Request", "Retrieved", "StreamEvent"]


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


def _model_and_store(settings: Settings) -> tuple[LocalEmbeddings, Store]:
    """The embedding model and the store, opened."""
    from assistant.embeddings import export_is_cached, load_embeddings
    from assistant.store import import_chromadb, open_store

    if export_is_cached(settings):
        # onnxruntime opens the model on a thread while chromadb is imported here
        # (startup.py: most of its work releases the GIL)
        with in_background(load_embeddings, settings) as loading:
            import_chromadb()
            embeddings = loading.result()
    else:  # the first start exports the model with torch, and logs it: no thread
        embeddings = load_embeddings(settings)
    return embeddings, open_store(settings, embeddings)


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
        self.embeddings = embeddings
        self.knowledge = KnowledgeBase(settings, embeddings, store)
        #: called with every finished answer, whichever front end asked (metrics, logs)
        self.observers: list[Callable[[Answer], None]] = []
        #: the language model answering (``ASSISTANT_LLM``); ``None``: the extractive answerer
        self.llm = llm if llm is not None else build_chat_model(settings)
        extractive = ExtractiveAnswerer(embeddings)
        #: the offline answerer, whatever answers readers (``quote``)
        self.extractive = extractive
        self.answerer: Answerer = extractive
        #: rewrites a follow-up to stand alone before retrieval (language models only)
        self._generative: GenerativeAnswerer | None = None
        if self.llm is not None:
            from assistant.answering.generative import GenerativeAnswerer

            self._generative = GenerativeAnswerer(self.llm, embeddings, extractive)
            self.answerer = self._generative

    @classmethod
    def from_settings(cls, settings: Settings) -> Assistant:
        """Open the index and bring it in line with the articles folder (building it when
        it is missing)."""
        assistant = cls.opened(settings)
        assistant.reconcile()
        return assistant

    @classmethod
    def opened(cls, settings: Settings) -> Assistant:
        """The model and the store opened, the index not yet in line with the folder
        (``reconcile``): a start keeps its imports apart from indexing (``startup.py``)."""
        prompts.use(settings.prompts_dir)
        return cls(settings, *_model_and_store(settings))

    def reconcile(self) -> None:
        """Bring the index in line with the articles folder (building it when it is
        missing); ``IndexNotBuiltError`` when nothing is indexed then."""
        report = self.knowledge.reconcile()
        if not self.catalog:
            problems = "; ".join(str(e) for e in report.errors) if report else ""
            raise IndexNotBuiltError(
                f"nothing to index in {self.settings.articles_dir} "
                f"({problems or 'no articles found'})"
            )

    # -- the knowledge base (see knowledge.py) ------------------------------------------

    @property
    def store(self) -> Store:
        return self.knowledge.store

    @property
    def catalog(self) -> Mapping[str, ArticleInfo]:
        return self.knowledge.catalog

    @property
    def lexical(self) -> LexicalIndex:
        return self.knowledge.lexical

    @property
    def retriever(self) -> HybridRetriever:
        return self.knowledge.retriever

    def index(
        self, rebuild: bool = False, progress: Callable[[str], None] | None = None
    ) -> IndexReport:
        """Bring the store in line with the articles folder, then reload what answers use."""
        return self.knowledge.index(rebuild=rebuild, progress=progress)

    def refresh(self) -> None:
        """Reload passages and the article list from the store (after it changed)."""
        self.knowledge.refresh()

    def refresh_if_changed(self) -> None:
        """Pick up what another process changed (``KnowledgeBase.refresh_if_changed``)."""
        self.knowledge.refresh_if_changed()

    def articles(self) -> list[ArticleInfo]:
        """Indexed articles, by title."""
        return self.knowledge.articles()

    def article_passages(self, article_id: str) -> list[Passage]:
        """One article's passages in reading order (for showing the article with highlights)."""
        return self.knowledge.article_passages(article_id)

    def add_article(self, article: Article) -> ArticleInfo:
        """Add or replace one article: saved in the articles folder and indexed at once."""
        return self.knowledge.add(article)

    def remove_article(self, article_id: str) -> None:
        """Remove one article from the articles folder and the index."""
        self.knowledge.remove(article_id)

    # -- answering -----------------------------------------------------------------------

    def check(
        self,
        question: object,
        history: Sequence[Turn | dict[str, Any]] | None = None,
        article: str | None = None,
        knowledge: Snapshot | None = None,
    ) -> Request:
        """Validate a question before it reaches the chain (raises ``AssistantError``s)."""
        knowledge = knowledge or self.knowledge.snapshot
        limit = self.settings.max_question_chars
        text = clean_question(question, limit)
        if article is not None and article not in knowledge.catalog:
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
        return final_answer(self.stream(question, history, article))

    def quote(self, question: str, article: str | None = None) -> Answer:
        """The extractive answer to a question without history: offline, never a language
        model's call, and not seen by ``observers`` (the assistant checking itself, as
        ``suggestions`` does, is no reader's question)."""
        knowledge = self.knowledge.snapshot
        request = self.check(question, None, article, knowledge)
        return self.extractive.compose(self._retrieve(request, knowledge))

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
        in the extractive answer. The extractive answerer sends no deltas.
        """
        started = time.perf_counter()
        self.knowledge.refresh_if_changed()
        knowledge = self.knowledge.snapshot  # one version of the index for the whole answer
        retrieved = self._retrieve(self.check(question, history, article, knowledge), knowledge)
        return self._timed(self.answerer.answer(retrieved), started)

    def _timed(self, events: Iterator[StreamEvent], started: float) -> Iterator[StreamEvent]:
        for event in events:
            if isinstance(event, Final):
                event.answer.latency_ms = round((time.perf_counter() - started) * 1000, 2)
                for observe in self.observers:
                    observe(event.answer)
            yield event

    def _retrieve(self, request: Request, knowledge: Snapshot | None = None) -> Retrieved:
        knowledge = knowledge or self.knowledge.snapshot
        standalone, failure = None, None
        if self._generative is not None:
            standalone, failure = self._generative.standalone(request)
        query = standalone or contextualize(request.question, request.history)
        if query == request.question:
            vector = question_vector = self.embeddings.query_vector(query)
        else:
            vector, question_vector = self.embeddings.encode([query, request.question])
        hits = knowledge.retriever.scoped(request.article).search(query, vector)
        return Retrieved(
            request=request,
            query=query,
            vector=vector,
            question_vector=question_vector,
            hits=hits,
            knowledge=knowledge,
            standalone=standalone,
            llm_failure=failure,
        )

    @property
    def chain(self) -> Runnable[Request, Answer]:
        """The chain as a LangChain runnable: ``retrieve | answer`` (for LCEL composition)."""
        # imported here: langchain's runnables cost a new process half a second, and
        # answering a question does not use them
        from langchain_core.runnables import RunnableLambda

        retrieve = RunnableLambda(self._retrieve, name="retrieve")
        answer: RunnableLambda[Retrieved, Answer] = RunnableLambda(
            lambda state: final_answer(self.answerer.answer(state)), name="answer"
        )
        return retrieve | answer
