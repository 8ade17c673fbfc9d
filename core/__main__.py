"""``python -m core``: the SparseLens command line."""

import sys

from core.cli import main

sys.exit(main())
