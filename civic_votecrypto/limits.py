"""Protocol-wide limits, one constant each, imported by every reader and writer that checks them.

``MAX_TRUSTEES`` bounds n (and so t) everywhere: the key ceremony (``dkg``), the election
context (``ballot``), the election record (``record``), the trustee program and the server's
election form (which imports it from here). 255 keeps a trustee index in one byte and the
ceremony's n·(n−1) encrypted shares small (docs/protocol-trustees.md §2).
"""

from __future__ import annotations

MAX_TRUSTEES = 255
