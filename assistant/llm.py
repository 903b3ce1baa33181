"""The language model behind ``ASSISTANT_LLM``: ``openai:MODEL`` or ``ollama:MODEL``.

``openai:`` is LangChain's ``ChatOpenAI``, which speaks to any OpenAI-compatible server
(vLLM, llama.cpp's server, LM Studio, Ollama's ``/v1``, hosted APIs) at
``ASSISTANT_LLM_BASE_URL``; ``ollama:`` is ``ChatOllama`` on Ollama's own API. Both live
in optional extras and are imported here only when chosen, so the extractive default
never pays for them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

# ASSISTANT_LLM is parsed with the other settings
from assistant.config import EXTRACTIVE, ModelSpec, Provider, parse_llm  # noqa: F401
from assistant.errors import ConfigError, LLMError

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

    from assistant.config import Settings

#: one retry covers a dropped connection; more would keep a reader waiting on a dead server
MAX_RETRIES = 1
#: answers are one to three sentences; this bounds a model that rambles
MAX_TOKENS = 400
#: what local servers (vLLM, llama.cpp, LM Studio, Ollama) accept when they check no key;
#: the OpenAI client refuses to start without one
PLACEHOLDER_KEY = "not-needed"


def _missing_extra(extra: str, exc: ImportError) -> ConfigError:
    return ConfigError(
        f"ASSISTANT_LLM={extra}:... needs the {extra} extra: "
        f"pip install 'article-assistant[{extra}]' ({exc})"
    )


def build_chat_model(settings: Settings) -> BaseChatModel | None:
    """The chat model ``settings.llm`` names (``None`` for the extractive answerer)."""
    spec = settings.llm_spec()
    if spec is None:
        return None
    if spec.provider == "openai":
        try:
            from langchain_openai import ChatOpenAI
        except ImportError as exc:
            raise _missing_extra("openai", exc) from exc
        secret = settings.llm_api_key.get_secret_value() if settings.llm_api_key else None
        api_key = secret or (PLACEHOLDER_KEY if settings.llm_base_url else None)
        if api_key is None:
            raise ConfigError(
                "ASSISTANT_LLM=openai:... needs ASSISTANT_LLM_API_KEY, or ASSISTANT_LLM_BASE_URL "
                "pointing at a server that needs no key (vLLM, llama.cpp, LM Studio, Ollama)"
            )
        try:
            return ChatOpenAI(
                model=spec.model,
                base_url=settings.llm_base_url,
                api_key=api_key,  # type: ignore[arg-type]
                timeout=settings.llm_timeout_s,
                max_retries=MAX_RETRIES,
                temperature=0,
                max_completion_tokens=MAX_TOKENS,
            )
        except Exception as exc:  # pydantic or client set-up errors, worded by the library
            raise ConfigError(
                f"ASSISTANT_LLM={settings.llm}: cannot set up the model ({exc})"
            ) from exc
    try:
        from langchain_ollama import ChatOllama
    except ImportError as exc:
        raise _missing_extra("ollama", exc) from exc
    try:
        return ChatOllama(
            model=spec.model,
            base_url=settings.llm_base_url,
            temperature=0,
            num_predict=MAX_TOKENS,
            # passed to the ollama client's httpx client
            client_kwargs={"timeout": settings.llm_timeout_s},
        )
    except Exception as exc:
        raise ConfigError(f"ASSISTANT_LLM={settings.llm}: cannot set up the model ({exc})") from exc


def describe_failure(exc: BaseException) -> str:
    """A short reason for a reader ("the language model timed out") for any model failure.

    Judged by the exception's class names rather than by importing openai, httpx or
    ollama here: each provider raises its own types, and all name timeouts and
    connection errors alike.
    """
    if isinstance(exc, LLMError):
        return str(exc)
    names = " ".join(k.__name__ for k in type(exc).__mro__).lower()
    if isinstance(exc, TimeoutError) or "timeout" in names:
        return "the language model timed out"
    if isinstance(exc, ConnectionError) or "connect" in names:
        return "the language model could not be reached"
    if isinstance(exc, ValueError) or "decode" in names:  # a body that is not JSON
        return "the language model returned a malformed response"
    if "status" in names:  # the server answered, with an HTTP error
        return "the language model's server answered with an error"
    return f"the language model failed ({type(exc).__name__})"
