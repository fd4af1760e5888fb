"""``python -m sim`` is the ``incuchain`` command."""

import sys

from .cli import main

sys.exit(main())
