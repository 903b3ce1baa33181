"""The assistant's exceptions.

Core code raises these; only the edges (CLI, Gradio, HTTP) turn them into
words for a person. Every message says what happened and what to do next.

    AssistantError
    ├── ConfigError            a setting is wrong (bad model folder, bad value)
    ├── ArticleError           an article file cannot be read or parsed
    │   └── ArticleTooLargeError   an article's body is over ASSISTANT_MAX_ARTICLE_CHARS
    ├── UnknownArticleError    a question is scoped to an article id that is not indexed
    ├── QuestionError          the question itself is unusable (empty, too long)
    ├── IndexNotBuiltError     there is no index and it cannot be built
    ├── StoreError             the vector store failed (e.g. a Chroma server went away)
    ├── PromptError            a template in prompts/ is missing or malformed
    ├── FixtureError           an evaluation fixture line is broken
    ├── EvaluationError        an evaluation run cannot go on (bad gate, unreadable baseline)
    ├── FeedbackError          readers' feedback cannot be read or written (file, Redis)
    └── LLMError               a language model could not be reached or answered badly
"""

from __future__ import annotations


class AssistantError(Exception):
    """Base class for every error the assistant raises on purpose."""

    #: short machine-readable code, used by the HTTP layer
    code = "assistant_error"


class ConfigError(AssistantError):
    code = "bad_config"


class ArticleError(AssistantError):
    code = "bad_article"

    def __init__(self, message: str, path: str | None = None) -> None:
        super().__init__(message)
        #: the file that failed, when there is one
        self.path = path


class ArticleTooLargeError(ArticleError):
    code = "article_too_large"


class UnknownArticleError(AssistantError):
    code = "unknown_article"


class QuestionError(AssistantError):
    code = "bad_question"


class IndexNotBuiltError(AssistantError):
    code = "no_index"


class StoreError(AssistantError):
    code = "store_unavailable"


class PromptError(AssistantError):
    code = "bad_prompt"


class FixtureError(AssistantError):
    code = "bad_fixture"


class EvaluationError(AssistantError):
    code = "bad_evaluation"


class FeedbackError(AssistantError):
    code = "feedback_unavailable"


class LLMError(AssistantError):
    code = "llm_error"
