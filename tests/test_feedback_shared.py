"""Feedback that several instances share: one file under a lock (processes of one host), or a
Redis stream (real redis-server); and ``assistant feedback export`` as fixture-shaped lines."""

from __future__ import annotations

import json
import multiprocessing
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.config import Settings
from assistant.feedback import FileFeedback, export_cases, open_feedback, record_feedback
from assistant.schemas import Answer, Citation
from tests.conftest import ROOT
from tests.redis_server import RedisServer, redis_server

SEED = "north-korean-troops-in-ukraine"
VOTES_PER_PROCESS = 150


def answer(text: str = "He called the plan frightening. [1]") -> Answer:
    quote = "Hungarian Prime Minister Viktor Orban called Zelensky’s plan “frightening”"
    citation = Citation(
        n=1, article_id=SEED, article_title="T", passage_id=f"{SEED}:6",
        quote=quote, start=0, end=len(quote), score=0.8,
    )  # fmt: skip
    return Answer(
        question="What did Orban say?", answer=text, abstained=False, citations=[citation]
    )


def settings(tmp_path: Path, storage: str = "file") -> Settings:
    return Settings(
        feedback_file=tmp_path / "feedback.jsonl", feedback_storage=storage, _env_file=None
    )


def _vote_many(path: str, name: str) -> None:
    for i in range(VOTES_PER_PROCESS):
        # long enough that an unlocked append could be split by another process's
        record_feedback(
            Path(path),
            question=f"{name} {i} " + "x" * 3000,
            answer=answer(),
            rating="down" if i % 2 else "up",
            article=SEED,
        )


def test_processes_of_one_host_append_whole_lines_to_one_file(tmp_path: Path) -> None:
    path = tmp_path / "feedback.jsonl"
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_vote_many, args=(str(path), n)) for n in ("a", "b", "c")]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
        assert worker.exitcode == 0
    records = list(FileFeedback(path).records())  # every line a whole JSON object
    assert len(records) == 3 * VOTES_PER_PROCESS
    for name in ("a", "b", "c"):
        mine = [r["question"].split()[1] for r in records if r["question"].startswith(name)]
        assert mine == [str(i) for i in range(VOTES_PER_PROCESS)]  # in order, none lost


def test_instances_on_one_redis_write_to_one_stream(tmp_path: Path) -> None:
    with redis_server(tmp_path / "redis") as redis:
        first, second = settings(tmp_path, redis.url), settings(tmp_path, redis.url)
        record_feedback(first, question="q1", answer=answer(), rating="up", article=SEED)
        record_feedback(second, question="q2", answer=answer("No."), rating="down", article=None)
        cases = list(export_cases(open_feedback(first)))
    assert [(c["question"], c["verdict"]) for c in cases] == [("q1", "good"), ("q2", "bad")]
    # the article asked about, or else the one the answer cites
    assert [c["article"] for c in cases] == [SEED, SEED]
    assert not (tmp_path / "feedback.jsonl").exists()  # nothing went to the file


def test_a_vote_while_redis_is_away_is_refused_and_the_stream_keeps_the_rest(
    tmp_path: Path,
) -> None:
    redis = RedisServer(tmp_path / "redis")
    redis.start()
    try:
        store = settings(tmp_path, redis.url)
        record_feedback(store, question="kept", answer=answer(), rating="up", article=SEED)
        redis.pause()  # a Redis that hangs
        with pytest.raises(OSError, match="cannot be reached"):
            record_feedback(store, question="lost", answer=answer(), rating="up", article=SEED)
        redis.resume()
        record_feedback(store, question="after", answer=answer(), rating="down", article=SEED)
        questions = [c["question"] for c in export_cases(open_feedback(store))]
    finally:
        redis.stop()
    assert questions == ["kept", "after"]


def _cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "assistant", *args],
        capture_output=True, text=True, env=env, cwd=ROOT, timeout=120, check=False,
    )  # fmt: skip


def test_feedback_export_writes_fixture_shaped_lines(tmp_path: Path) -> None:
    path = tmp_path / "feedback.jsonl"
    record_feedback(
        path, question="What did Orban say?", answer=answer(), rating="up", article=SEED
    )
    record_feedback(path, question="Who won?", answer=answer("No."), rating="down", article=None)
    env = {"PATH": "/usr/bin:/bin", "ASSISTANT_FEEDBACK_FILE": str(path), "HF_HUB_OFFLINE": "1"}

    done = _cli("feedback", "export", env=env)
    assert done.returncode == 0, done.stderr
    cases = [json.loads(line) for line in done.stdout.splitlines()]
    assert [c["verdict"] for c in cases] == ["good", "bad"]
    for case in cases:
        assert {"id", "question", "article", "answer", "verdict", "key_facts", "evidence"} <= set(
            case
        )
    assert cases[0]["answer"].startswith("He called the plan")

    out = tmp_path / "bad.jsonl"
    done = _cli("feedback", "export", "--rating", "down", "--out", str(out), env=env)
    assert done.returncode == 0, done.stderr
    bad = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [c["question"] for c in bad] == ["Who won?"]
    assert "1 vote(s) exported" in done.stderr


def test_feedback_export_names_a_broken_line_in_one_line(tmp_path: Path) -> None:
    path = tmp_path / "feedback.jsonl"
    path.write_text('{"question": "ok", "rating": "up"}\nnot json\n', encoding="utf-8")
    env = {"PATH": "/usr/bin:/bin", "ASSISTANT_FEEDBACK_FILE": str(path), "HF_HUB_OFFLINE": "1"}
    out = tmp_path / "cases.jsonl"
    out.write_text("earlier\n", encoding="utf-8")
    done = _cli("feedback", "export", "--out", str(out), env=env)
    assert done.returncode == 1
    assert done.stderr.strip().count("\n") == 0 and f"{path}:2" in done.stderr
    assert out.read_text(encoding="utf-8") == "earlier\n"  # not half-overwritten
