"""Start the app: `python app.py` serves the UI and the JSON API on settings.host:settings.port (127.0.0.1:7860)."""

from __future__ import annotations

import logging
import sys

import uvicorn

from assistant.api import create_app
from assistant.http_guards import ExposureError, check_exposure
from assistant.settings import Settings

if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    settings = Settings.from_env()
    try:
        check_exposure(settings)
    except ExposureError as error:
        sys.exit(f"xihu: {error}")
    # The h11 parser refuses headers beyond the limit itself; under httptools the app's HeaderGuardMiddleware does.
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        h11_max_incomplete_event_size=settings.max_header_bytes,
    )
