"""Settings: read from the environment, documented in the README."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.config import Settings, bundled_model_dir
from assistant.errors import ConfigError
from tests.conftest import ROOT


def test_every_setting_is_documented() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for name in Settings.model_fields:
        assert f"`ASSISTANT_{name.upper()}`" in readme, (
            f"README does not document ASSISTANT_{name.upper()}"
        )


def test_defaults_follow_the_design(clean_cwd: Path) -> None:
    s = Settings()
    assert (s.articles_dir, s.chroma_dir, s.chroma_url, s.top_k, s.llm) == (
        Path("index/articles"), Path("index/chroma"), None, 4, "extractive",
    )  # fmt: skip
    assert (s.max_question_chars, s.rate_limit, s.allowed_origins, s.admin_token) == (
        1000,
        "30/minute",
        "",
        None,
    )
    assert s.model_dir() == bundled_model_dir()


def test_environment_and_blank_values(clean_cwd: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASSISTANT_TOP_K", "7")
    monkeypatch.setenv("ASSISTANT_CHROMA_URL", "  ")
    s = Settings()
    assert s.top_k == 7 and s.chroma_url is None


def test_dotenv_file(clean_cwd: Path) -> None:
    (clean_cwd / ".env").write_text("ASSISTANT_TOP_K=3\n", encoding="utf-8")
    assert Settings().top_k == 3


def test_bad_model_folder(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not a sentence-transformers model"):
        Settings(embedding_model=tmp_path, _env_file=None).model_dir()
