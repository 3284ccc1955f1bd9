"""``python -m helpers COMMAND ...``: the package's command line (:mod:`helpers.cli`)."""

import sys

from .cli import _headless, main

if __name__ == "__main__":
    _headless()
    sys.exit(main())
