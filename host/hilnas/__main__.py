"""``python -m hilnas``: the same as the ``hilnas`` console script."""

import sys

from hilnas.cli import main

sys.exit(main())
