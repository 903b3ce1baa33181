"""The scripted language-model server, for the tests that import it from here; it lives in
``assistant/evaluation/scripted_llm.py`` so that benchmarks need nothing from ``tests/``."""

from assistant.evaluation.scripted_llm import ScriptedLLM

__all__ = ["ScriptedLLM"]
