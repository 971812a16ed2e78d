"""`python -m assistant ...` — see assistant/cli.py."""

import sys

from assistant.cli import main

if __name__ == "__main__":
    sys.exit(main())
