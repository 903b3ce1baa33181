"""Settings: read from the environment, documented in docs/settings.md, checked at the edge."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError

from assistant.config import (
    ModelSpec,
    Rate,
    Settings,
    bundled_model_dir,
    load_settings,
    settings_error,
)
from assistant.errors import ConfigError
from tests.conftest import ROOT


def test_every_setting_is_documented() -> None:
    page = (ROOT / "docs" / "settings.md").read_text(encoding="utf-8")
    for name in Settings.model_fields:
        assert f"`ASSISTANT_{name.upper()}`" in page, (
            f"docs/settings.md does not document ASSISTANT_{name.upper()}"
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


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("TOP_K", "lots", "ASSISTANT_TOP_K='lots': Input should be a valid integer"),
        ("RATE_LIMIT", "30/fortnight", "ASSISTANT_RATE_LIMIT='30/fortnight' is not a rate"),
        ("ALLOWED_ORIGINS", "news.example.org", "ASSISTANT_ALLOWED_ORIGINS: 'news.example.org'"),
        ("LLM", "gpt-4o", "ASSISTANT_LLM='gpt-4o' is not an answerer"),
        ("PORT", "99999", "ASSISTANT_PORT='99999': Input should be less than or equal to 65535"),
        ("CHROMA_TIMEOUT_S", "0", "ASSISTANT_CHROMA_TIMEOUT_S='0': Input should be greater"),
    ],
)
def test_a_bad_value_is_one_line_naming_the_setting(
    clean_cwd: Path, monkeypatch: pytest.MonkeyPatch, variable: str, value: str, expected: str
) -> None:
    monkeypatch.setenv(f"ASSISTANT_{variable}", value)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    message = str(caught.value)
    assert message.startswith(expected)
    assert "\n" not in message and "pydantic" not in message


def test_several_bad_values_are_counted(clean_cwd: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASSISTANT_TOP_K", "lots")
    monkeypatch.setenv("ASSISTANT_PORT", "port")
    with pytest.raises(ValidationError) as caught:
        Settings()
    assert str(settings_error(caught.value)).endswith("(and 1 more problem(s))")


def test_secrets_are_never_shown(clean_cwd: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASSISTANT_ADMIN_TOKEN", "tok-3141")
    monkeypatch.setenv("ASSISTANT_LLM_API_KEY", "sk-2718")
    settings = Settings()
    assert isinstance(settings.admin_token, SecretStr)
    assert settings.admin_token.get_secret_value() == "tok-3141"
    assert settings.llm_api_key is not None
    assert settings.llm_api_key.get_secret_value() == "sk-2718"
    shown = f"{settings!r} {settings} {settings.model_dump_json()}"
    assert "tok-3141" not in shown and "sk-2718" not in shown


def test_a_copy_with_changes_is_validated() -> None:
    """pydantic's own ``model_copy(update=...)`` skips validation: a plain ``str`` token
    would reach the code that expects a secret, and a bad rate would pass."""
    base = Settings(_env_file=None)
    copy = base.model_copy(update={"admin_token": "tok", "top_k": "7"})
    assert isinstance(copy.admin_token, SecretStr) and copy.top_k == 7
    with pytest.raises(ValidationError, match="is not a rate"):
        base.model_copy(update={"rate_limit": "often"})


def test_parsed_values(clean_cwd: Path) -> None:
    settings = Settings(
        rate_limit="5 per minute",
        allowed_origins="https://a.example/, http://localhost:8000",
        llm="OpenAI: stub",
    )
    assert settings.rate() == Rate(5, 60.0) and str(settings.rate()) == "5/minute"
    assert settings.origins() == ["https://a.example", "http://localhost:8000"]
    assert settings.llm_spec() == ModelSpec("openai", "stub")
    assert Settings().llm_spec() is None and Settings().origins() == []


def test_edges_and_timing_are_settings(clean_cwd: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    s = Settings()
    assert (s.host, s.port, s.chroma_timeout_s, s.shared_refresh_s) == ("127.0.0.1", 7860, 15, 0)
    monkeypatch.setenv("ASSISTANT_HOST", "0.0.0.0")
    monkeypatch.setenv("ASSISTANT_PORT", "8080")
    monkeypatch.setenv("ASSISTANT_SHARED_REFRESH_S", "2.5")
    s = Settings()
    assert (s.host, s.port, s.shared_refresh_s) == ("0.0.0.0", 8080, 2.5)
    assert load_settings(port=9000, host=None).port == 9000  # a command-line override wins
