"""Optional chat model (off by default): built from settings by one factory; the answer chain guards what it says."""

from __future__ import annotations

import os
from typing import Any

from assistant.settings import Settings


def make_chat_model(settings: Settings) -> Any:
    """None when no LLM is configured (the default: extractive answers); else a LangChain chat model."""
    if not settings.llm_base_url:
        return None
    from langchain_openai import ChatOpenAI

    return ChatOpenAI(
        base_url=settings.llm_base_url,
        model=settings.llm_model,
        api_key=os.environ.get(settings.llm_api_key_env) or "not-needed",
        timeout=settings.llm_timeout_s,
        max_retries=0,
        temperature=0,
    )
