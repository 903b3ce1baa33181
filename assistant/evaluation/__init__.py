"""The evaluation harness behind ``assistant eval``: fixtures, metrics, reports, comparison.

Modules, in the order a run uses them:

- ``fixtures``: reading and checking the JSONL cases (``Case``)
- ``runner``: asking every case through a pipeline (``Assistant`` or the tutorial one)
- ``metrics``: one small function per metric of DESIGN.md's table
- ``results``: the typed report (``EvalReport``) that the JSON file holds
- ``compare``: baseline deltas and ``--fail-under``/``--fail-over`` gates
- ``report``, ``html_report``, ``charts``: the terminal table, Markdown, JSON and HTML
- ``tutorial``: the plain LangChain tutorial pipeline, the baseline to beat
- ``command``: the ``assistant eval`` command (arguments and ``run``)

Nothing here imports gradio or fastapi, and importing the package does no work.
"""

from __future__ import annotations

from assistant.errors import EvaluationError

__all__ = ["EvaluationError"]
