"""西湖政策助手: answers questions about one notice of 西湖区 (knowledge/notice.yaml names it) with article citations.

`ask(question, history=None) -> Answer` is the Python entry point; `Assistant` keeps the loaded index.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from assistant.answer import Assistant
    from assistant.records import Answer

__version__ = "0.1.0"
_default: Assistant | None = None


def ask(question: str, history: Sequence[dict[str, Any]] | None = None) -> Answer:
    """Answer with the default settings (env overrides apply); the index is opened once per process."""
    global _default
    if _default is None:
        from assistant.answer import Assistant

        _default = Assistant.create()
    return _default.ask(question, history)
