"""How well verification keeps good sentences and catches planted claims.

Starts the scripted OpenAI-compatible server (``assistant/evaluation/scripted_llm.py``)
in this process, points the assistant at it (``ASSISTANT_LLM=openai:stub``) and runs the
dev fixtures twice: once with well-formed cited answers (``good``), once with one claim
the article does not make planted in every answer (``planted``, kinds in rotation: an
invented name, a changed number, an added clause, an off-topic sentence, a name from
another passage, a negation, a sentence of another passage cited to this one). The
server records each sentence it wrote, so every sentence the verifier removed or kept is
known to be good or planted.

Prints a table and writes ``benchmarks/results/verification.json``.
``.venv/bin/python benchmarks/verification.py``
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: find the package
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from assistant.evaluation import metrics  # noqa: E402
from assistant.evaluation.fixtures import load_cases  # noqa: E402
from assistant.evaluation.metrics import Outcome  # noqa: E402
from assistant.evaluation.runner import run_cases  # noqa: E402
from assistant.evaluation.scripted_llm import Drafted, ScriptedLLM  # noqa: E402
from assistant.text import words  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
DEV = ROOT / "tests" / "fixtures" / "north-korean-troops-dev.jsonl"
RESULTS = ROOT / "benchmarks" / "results" / "verification.json"
RUNS = ("good", "planted")


def same(a: str, b: str) -> bool:
    """Whether two sentences are the same words (markers, quotes and case aside)."""
    return words(a) == words(b)


def contains(answer: str, sentence: str) -> bool:
    """Whether the answer text still holds the sentence."""
    return " ".join(words(sentence)) in " ".join(words(answer))


def answers(
    behaviour: str, articles: Path, chroma: Path
) -> tuple[list[Outcome], list[Drafted], int]:
    """The dev fixtures' outcomes with the server answering as ``behaviour``, the drafts
    the server wrote, and the top-k the run retrieved."""
    from assistant import Assistant, Settings

    with ScriptedLLM(default=behaviour) as server:
        settings = Settings(
            articles_dir=articles,
            chroma_dir=chroma,
            llm="openai:stub",
            llm_base_url=server.base_url,
            llm_timeout_s=10,
            _env_file=None,
        )
        assistant = Assistant.from_settings(settings)
        outcomes = run_cases(assistant, load_cases([DEV]))
        return outcomes, list(server.drafted), settings.top_k


def run(behaviour: str, articles: Path, chroma: Path) -> dict[str, Any]:
    """The dev fixtures through the assistant with the server answering as ``behaviour``."""
    outcomes, drafted, top_k = answers(behaviour, articles, chroma)
    # one draft per question, in order (a follow-up's rewrite request drafts nothing)
    assert len(drafted) == len(outcomes), (len(drafted), len(outcomes))
    planted = caught = good = good_removed = good_cited = 0
    by_kind: Counter[str] = Counter()
    caught_by_kind: Counter[str] = Counter()
    missed: list[dict[str, str]] = []
    wrongly_removed: list[str] = []
    for outcome, draft in zip(outcomes, drafted, strict=True):
        answer = outcome.answer
        good += len(draft.good)
        for sentence in draft.good:
            if any(same(sentence, r) for r in answer.removed_sentences):
                good_removed += 1
                wrongly_removed.append(sentence)
            # cited correctly: a citation quotes the article sentence it was copied from
            elif any(contains(c.quote, sentence) for c in answer.citations):
                good_cited += 1
        if draft.planted:
            planted += 1
            by_kind[draft.kind or "?"] += 1
            if not contains(answer.answer, draft.planted):
                caught += 1
                caught_by_kind[draft.kind or "?"] += 1
            else:
                missed.append({"kind": draft.kind or "?", "sentence": draft.planted})
    scored = metrics.compute_metrics(outcomes, top_k)
    modes = Counter(o.answer.mode for o in outcomes)
    return {
        "behaviour": behaviour,
        "cases": len(outcomes),
        "supported_sentence_rate": scored["supported_sentence_rate"],
        "citation_precision": scored["citation_precision"],
        "citation_recall": scored["citation_recall"],
        "key_fact_recall": scored["key_fact_recall"],
        "abstention_rate": scored["abstention_rate"],
        "planted": planted,
        "planted_caught": caught,
        "planted_by_kind": {k: [caught_by_kind[k], n] for k, n in sorted(by_kind.items())},
        "planted_missed": missed,
        "good_sentences": good,
        "good_removed": good_removed,
        "good_removed_sentences": wrongly_removed,
        "good_cited_to_their_source": good_cited,
        "fallbacks": modes.get("extractive-fallback", 0),
        "modes": dict(modes),
    }


def main() -> int:
    """Both runs, a table on stdout and the JSON results file."""
    with tempfile.TemporaryDirectory(prefix="verification-") as tmp:
        results = [run(b, ROOT / "index" / "articles", Path(tmp) / "chroma") for b in RUNS]
    header = (
        f"{'run':<8} {'cases':>5} {'supported':>9} {'cit.prec':>8} "
        f"{'planted caught':>14} {'good removed':>12} {'good cited right':>16} {'fallbacks':>9}"
    )
    print(header)
    print("-" * len(header))
    for r in results:
        planted = f"{r['planted_caught']}/{r['planted']}" if r["planted"] else "-"
        print(
            f"{r['behaviour']:<8} {r['cases']:>5} {r['supported_sentence_rate']!s:>9} "
            f"{r['citation_precision']!s:>8} {planted:>14} "
            f"{r['good_removed']}/{r['good_sentences']:<10} "
            f"{r['good_cited_to_their_source']}/{r['good_sentences']:<13} {r['fallbacks']:>9}"
        )
    planted_run = results[-1]
    print("planted, caught/planted by kind:", planted_run["planted_by_kind"])
    for miss in planted_run["planted_missed"]:
        print(f"  missed ({miss['kind']}): {miss['sentence']}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps({"fixtures": str(DEV.relative_to(ROOT)), "runs": results}, indent=2) + "\n"
    )
    print(f"written: {RESULTS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
