"""`python -m samesense.cli`, the same as `python -m samesense`."""

import sys

from . import main

sys.exit(main())
