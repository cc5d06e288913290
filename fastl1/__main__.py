"""Entry point for ``python -m fastl1``; see :mod:`fastl1.cli`."""

import sys

from fastl1.cli import main

if __name__ == "__main__":
    sys.exit(main())
