"""`python -m samesense`: the command line (samesense/cli)."""

import sys

from .cli import main

sys.exit(main())
