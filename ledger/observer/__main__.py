"""``python -m ledger.observer``: see ledger/observer/cli.py."""

import sys

from ledger.observer.cli import main

sys.exit(main())
