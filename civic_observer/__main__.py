"""``python -m civic_observer``: see civic_observer/cli.py."""

import sys

from civic_observer.cli import main

sys.exit(main())
