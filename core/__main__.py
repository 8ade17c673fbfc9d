"""``python -m core``: the SparseLens command line."""

import sys

from core.cli.main import main

sys.exit(main())
