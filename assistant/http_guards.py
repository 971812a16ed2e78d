"""HTTP hardening shared by every route: body size limit, JSON errors without stack traces, optional basic auth."""

from __future__ import annotations

from typing import Any

from assistant.settings import Settings


def install_guards(app: Any, settings: Settings) -> None:
    """Attach the middlewares and exception handlers to a FastAPI app (called by assistant.api.create_app)."""
    # Filled in by the "running it for real" work (issue 6): size limits, non-UTF-8 bodies, auth, error shape.
    return None
