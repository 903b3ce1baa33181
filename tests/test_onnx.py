"""The ONNX query encoder: same vectors as sentence-transformers, cached export, fallback."""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from assistant.config import Settings, bundled_model_dir
from assistant.embeddings import LocalEmbeddings, load_embeddings
from assistant.onnx_embedder import (
    MODEL_FILE,
    OnnxEncoder,
    export_path,
    load_onnx,
    model_key,
    unsupported_reason,
)
from tests.conftest import ONNX_CACHE, ROOT, seed_articles

pytestmark = pytest.mark.slow

#: the largest difference allowed between the two runtimes' vectors
TOLERANCE = 1e-5
HEAVY = ("torch", "sentence_transformers", "transformers", "gradio", "fastapi", "langchain_openai")

LONG = " ".join(
    "North Korean troops were seen near Kursk, officials said on Tuesday." for _ in range(60)
)
TEXTS = [
    "What did Orban say?",
    "short",
    "",
    "  leading and trailing spaces  ",
    "Café naïve résumé – “typographic quotes” and ‘apostrophes’",
    "The U.S. and the E.U. said 10,000 soldiers (roughly) were sent.",
    "中文 and emoji 🙂 mixed in",
    LONG,  # far beyond 256 tokens: both must cut it at the same place
    LONG[: len(LONG) // 3],
]


@pytest.fixture(scope="module")
def model_dir() -> Path:
    return bundled_model_dir()


@pytest.fixture(scope="module")
def reference(embeddings: LocalEmbeddings) -> LocalEmbeddings:
    """The shared embeddings; their sentence-transformers model is the reference."""
    return embeddings


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory, model_dir: Path, reference) -> Path:  # type: ignore[no-untyped-def]
    """A real export into an empty cache folder (the model already loaded is reused)."""
    cache = tmp_path_factory.mktemp("onnx-cache")
    encoder = load_onnx(model_dir, cache, reference._model)
    assert encoder is not None
    return cache


def test_export_is_written_under_the_model_key(exported: Path, model_dir: Path) -> None:
    path = export_path(model_dir, exported)
    assert path == exported / model_key(model_dir) / MODEL_FILE and path.is_file()
    meta = json.loads((path.parent / "meta.json").read_text(encoding="utf-8"))
    assert meta["max_seq_length"] == 256 and meta["dimension"] == 384
    # written under a temporary name and renamed: nothing half-written is left
    assert sorted(p.name for p in path.parent.iterdir()) == ["meta.json", MODEL_FILE]


def test_onnx_vectors_equal_sentence_transformers(
    exported: Path, model_dir: Path, reference: LocalEmbeddings
) -> None:
    encoder = OnnxEncoder(export_path(model_dir, exported), model_dir / "tokenizer.json")
    want = reference.encode_with_sentence_transformers(TEXTS)
    one_by_one = np.stack([encoder.encode([text])[0] for text in TEXTS])
    mixed_batch = encoder.encode(TEXTS)  # padded to the longest: padding must not leak in
    # beyond SMALL_BATCH and batch_size: several threads, batches sorted by length, and
    # every vector back in its text's place
    large_batch = encoder.encode(TEXTS * 5, batch_size=4)
    for got in (one_by_one, mixed_batch, *np.split(large_batch, 5)):
        assert got.dtype == np.float32 and got.shape == (len(TEXTS), 384)
        error = float(np.max(np.abs(got - want)))
        print(f"max abs difference onnxruntime vs sentence-transformers: {error:.2e}")
        assert error <= TOLERANCE
    np.testing.assert_allclose(np.linalg.norm(mixed_batch, axis=1), 1.0, atol=1e-5)


def test_second_load_reuses_the_export(
    exported: Path, model_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = export_path(model_dir, exported)
    before = path.stat().st_mtime_ns

    def no_export(*args: object, **kwargs: object) -> Path:
        raise AssertionError("exported again although the export is cached")

    monkeypatch.setattr("assistant.onnx_embedder.export_onnx", no_export)
    encoder = load_onnx(model_dir, exported)
    assert encoder is not None and encoder.path == path
    assert path.stat().st_mtime_ns == before
    assert encoder.encode(["What did Orban say?"]).shape == (1, 384)


def _copy_model(model_dir: Path, to: Path) -> Path:
    """The model's small files copied, its weights linked (a cheap, editable copy)."""
    for path in model_dir.rglob("*"):
        if path.is_file():
            target = to / path.relative_to(model_dir)
            target.parent.mkdir(parents=True, exist_ok=True)
            if path.stat().st_size > 5_000_000:
                target.symlink_to(path)
            else:
                shutil.copy2(path, target)
    return to


def test_key_follows_the_model_files(tmp_path: Path, model_dir: Path) -> None:
    copy = _copy_model(model_dir, tmp_path / "model")
    key = model_key(copy)
    assert model_key(copy) == key  # stable while nothing changes
    config = copy / "sentence_bert_config.json"
    config.write_text(config.read_text(encoding="utf-8").replace("256", "128"), encoding="utf-8")
    assert model_key(copy) != key
    (copy / "extra.txt").write_text("a new file", encoding="utf-8")
    assert len({key, model_key(copy)}) == 2


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (None, None),
        ("cls", "pooling is pooling_mode_cls_token"),
        ("dense", "sentence_transformers.models.Dense"),
        ("no-tokenizer", "no tokenizer.json"),
    ],
)
def test_only_faithfully_exportable_models_are_exported(
    tmp_path: Path, model_dir: Path, change: str | None, expected: str | None
) -> None:
    copy = _copy_model(model_dir, tmp_path / "model")
    if change == "cls":
        pooling = copy / "1_Pooling" / "config.json"
        config = json.loads(pooling.read_text(encoding="utf-8"))
        config.update(pooling_mode_mean_tokens=False, pooling_mode_cls_token=True)
        pooling.write_text(json.dumps(config), encoding="utf-8")
    elif change == "dense":
        modules = json.loads((copy / "modules.json").read_text(encoding="utf-8"))
        modules.append(
            {"idx": 3, "name": "3", "path": "3_Dense", "type": "sentence_transformers.models.Dense"}
        )
        (copy / "modules.json").write_text(json.dumps(modules), encoding="utf-8")
    elif change == "no-tokenizer":
        (copy / "tokenizer.json").unlink()
    reason = unsupported_reason(copy)
    if expected is None:
        assert reason is None
    else:
        assert reason is not None and expected in reason
        # refused before anything heavy runs, and the caller hears why
        assert load_onnx(copy, tmp_path / "cache") is None
        assert not (tmp_path / "cache").exists()


def test_failed_export_falls_back_and_still_answers(
    tmp_path: Path,
    seed_settings: Settings,
    reference: LocalEmbeddings,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    import torch

    from assistant.chain import Assistant
    from assistant.store import open_store

    def broken_export(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the exporter cannot trace this model")

    monkeypatch.setattr(torch.onnx, "export", broken_export)
    # the model already loaded stands in for loading it again (seconds, same weights)
    monkeypatch.setattr(
        "assistant.embeddings._load_sentence_transformer", lambda folder: reference._model
    )
    settings = seed_settings.model_copy(update={"onnx_dir": tmp_path / "onnx"})
    with caplog.at_level(logging.WARNING, logger="assistant.onnx_embedder"):
        fallback = load_embeddings(settings)
    assert fallback.onnx is None and fallback.runtime == "sentence-transformers"
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == [
        "embedding with sentence-transformers, not ONNX: the exporter cannot trace this model"
    ]
    assert not list((tmp_path / "onnx").rglob(MODEL_FILE))  # nothing half-written is kept
    assert not list((tmp_path / "onnx").rglob("*.tmp"))

    assistant = Assistant(settings, fallback, open_store(settings, fallback))
    assistant.refresh()
    answer = assistant.ask("What did Orban say?")
    assert not answer.abstained and "frightening" in answer.answer


def test_onnx_can_be_turned_off(seed_settings: Settings, reference, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(
        "assistant.embeddings._load_sentence_transformer", lambda folder: reference._model
    )
    embeddings = load_embeddings(seed_settings.model_copy(update={"onnx": False}))
    assert embeddings.onnx is None and embeddings.runtime == "sentence-transformers"


def test_with_a_cached_export_sentence_transformers_waits_for_bulk_texts(
    seed_settings: Settings, reference: LocalEmbeddings
) -> None:
    embeddings = load_embeddings(seed_settings)  # the export is cached by now
    assert embeddings.onnx is not None and embeddings._st_model is None
    embeddings.encode(TEXTS[:3])
    embeddings.query_vector("What did Orban say?")
    assert embeddings._st_model is None  # questions never load it

    bulk = LocalEmbeddings(model_dir=embeddings.model_dir, onnx=embeddings.onnx, onnx_bulk=True)
    got = bulk.encode(TEXTS * 4)
    assert bulk._st_model is None
    want = reference.encode_with_sentence_transformers(TEXTS * 4)
    assert float(np.max(np.abs(got - want))) <= TOLERANCE


def test_onnx_answers_questions_by_default(reference: LocalEmbeddings) -> None:
    assert reference.runtime == "onnxruntime"
    assert reference.encode(["What did Orban say?"]).shape == (1, 384)


_REPORT_MODULES = f"""
import json, sys
from assistant.cli import main
code = main(["ask", "What did Orban say?"])
print(json.dumps({{"code": code, "loaded": [m for m in {HEAVY!r} if m in sys.modules]}}))
"""


def test_ask_with_a_built_index_imports_no_torch(tmp_path: Path) -> None:
    seed_articles(tmp_path / "articles")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    env.update(
        ASSISTANT_ARTICLES_DIR=str(tmp_path / "articles"),
        ASSISTANT_CHROMA_DIR=str(tmp_path / "chroma"),
        ASSISTANT_ONNX_DIR=str(ONNX_CACHE),
        HF_HUB_OFFLINE="1",
    )
    built = subprocess.run(
        [sys.executable, "-m", "assistant", "index"],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=300,
    )
    assert built.returncode == 0, built.stderr
    asked = subprocess.run(
        [sys.executable, "-c", _REPORT_MODULES],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
    )
    assert asked.returncode == 0, asked.stderr
    *answer, last = asked.stdout.strip().splitlines()
    report = json.loads(last)
    assert report == {"code": 0, "loaded": []}
    assert "frightening" in "\n".join(answer)
