"""The ``assistant`` command, run as a real process: index, ask, chat, and errors as one line."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import ONNX_CACHE, ROOT, SEED_ID, seed_articles

pytestmark = pytest.mark.slow


def run(
    args: list[str], env: dict[str, str], stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "assistant", *args],
        capture_output=True,
        text=True,
        env=env,
        input=stdin,
        timeout=180,
        cwd=ROOT,
    )


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    root = tmp_path_factory.mktemp("cli")
    seed_articles(root / "articles")
    environ = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    environ.update(
        ASSISTANT_ARTICLES_DIR=str(root / "articles"),
        ASSISTANT_CHROMA_DIR=str(root / "chroma"),
        ASSISTANT_ONNX_DIR=str(ONNX_CACHE),
        HF_HUB_OFFLINE="1",
    )
    return environ


def test_index_then_ask(env: dict[str, str]) -> None:
    first = run(["index"], env)
    assert first.returncode == 0, first.stderr
    assert "1 added" in first.stdout
    again = run(["index"], env)
    assert "1 unchanged" in again.stdout and "embedding" not in again.stdout

    answer = run(["ask", "What did Orban say?"], env)
    assert answer.returncode == 0, answer.stderr
    assert "frightening" in answer.stdout and "[1]" in answer.stdout and "Sources:" in answer.stdout
    assert "Loading weights" not in answer.stderr


def test_ask_json(env: dict[str, str]) -> None:
    result = run(
        [
            "ask",
            "How many troops is North Korea said to be preparing?",
            "--article",
            SEED_ID,
            "--json",
        ],
        env,
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert "10,000" in data["answer"] and not data["abstained"]
    assert data["citations"][0]["article_id"] == SEED_ID


def test_refusal_is_not_an_error(env: dict[str, str]) -> None:
    result = run(["ask", "What is the capital of Spain?", "--json"], env)
    assert result.returncode == 0
    data = json.loads(result.stdout)
    assert data["abstained"] and data["citations"] == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["ask", "   "], "the question is empty"),
        (["ask", "x" * 5000], "the limit is 1,000"),
        (["ask", "What did Orban say?", "--article", "../../etc/passwd"], "unknown article id"),
    ],
)
def test_user_errors_are_one_line(env: dict[str, str], args: list[str], message: str) -> None:
    result = run(args, env)
    assert result.returncode == 1
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_bad_article_file_is_named_and_the_rest_still_index(
    env: dict[str, str], tmp_path: Path
) -> None:
    folder = tmp_path / "articles"
    seed_articles(folder)
    (folder / "broken.txt").write_bytes(b"Title\n\xff\xfe not utf-8")
    local = {
        **env,
        "ASSISTANT_ARTICLES_DIR": str(folder),
        "ASSISTANT_CHROMA_DIR": str(tmp_path / "chroma"),
    }
    result = run(["index"], local)
    assert result.returncode == 1
    assert "broken.txt" in result.stderr and "not UTF-8" in result.stderr
    assert "1 articles indexed" in result.stdout
    assert "frightening" in run(["ask", "What did Orban say?"], local).stdout


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("ASSISTANT_TOP_K", "lots"),
        # parsed at start now, not when the web app first builds its rate limiter
        ("ASSISTANT_RATE_LIMIT", "often"),
        ("ASSISTANT_LLM", "gpt-4o"),
    ],
)
def test_bad_setting_is_one_line(env: dict[str, str], variable: str, value: str) -> None:
    result = run(["ask", "What did Orban say?"], {**env, variable: value})
    assert result.returncode == 1
    assert result.stderr.startswith(f"error: {variable}=") and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_app_py_names_a_bad_setting_in_one_line(env: dict[str, str]) -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "app.py")],
        capture_output=True,
        text=True,
        env={**env, "ASSISTANT_PORT": "http"},
        timeout=120,
        cwd=ROOT,
    )
    assert result.returncode == 1, result.stderr[-2000:]
    assert result.stderr.strip() == (
        "error: ASSISTANT_PORT='http': Input should be a valid integer, "
        "unable to parse string as an integer"
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_serve_listens_where_the_settings_say(env: dict[str, str], tmp_path: Path) -> None:
    """``ASSISTANT_HOST``/``ASSISTANT_PORT`` place the web app (``--host``/``--port``
    override them: tests/test_config.py)."""
    port = free_port()
    log = (tmp_path / "serve.log").open("w")
    command = [sys.executable, "-m", "assistant", "serve"]
    local = {**env, "ASSISTANT_HOST": "127.0.0.1", "ASSISTANT_PORT": str(port)}
    proc = subprocess.Popen(command, env=local, cwd=ROOT, stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + 180  # a busy 2-core machine starts Gradio slowly
        while proc.poll() is None and time.monotonic() < deadline:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=2)
                break
            except httpx.TransportError:
                time.sleep(0.5)
        else:
            pytest.fail(f"serve did not answer on {port}:\n{(tmp_path / 'serve.log').read_text()}")
        assert health.status_code == 200 and health.json()["status"] == "ok"
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


def test_chat_follows_up(env: dict[str, str]) -> None:
    result = run(["chat"], env, stdin="Who is Mark Rutte?\nWhat did he accuse China of?\nexit\n")
    assert result.returncode == 0, result.stderr
    assert "security spoilers" in result.stdout


def test_chat_survives_a_bad_question(env: dict[str, str]) -> None:
    result = run(["chat", "--article", SEED_ID], env, stdin="\x00\x01\nWhat did Orban say?\n")
    assert result.returncode == 0
    assert "frightening" in result.stdout
