"""Answers readers' questions about news articles, citing the exact sentences it used.

``from assistant import Assistant, Settings`` imports lazily, so ``import assistant``
costs nothing until one of them is used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from assistant.chain import Assistant
    from assistant.config import Settings
    from assistant.schemas import Answer, Citation

__all__ = ["Answer", "Assistant", "Citation", "Settings"]


def __getattr__(name: str) -> Any:
    if name == "Assistant":
        from assistant.chain import Assistant

        return Assistant
    if name == "Settings":
        from assistant.config import Settings

        return Settings
    if name in ("Answer", "Citation"):
        from assistant import schemas

        return getattr(schemas, name)
    raise AttributeError(f"module 'assistant' has no attribute {name!r}")
