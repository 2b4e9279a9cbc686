"""An election's identity for the key ceremony: its id, the base hash H_B and (n, t).

Every ceremony proof, trustee message and key file is bound to H_B, so the platform (when it
publishes an election context) and the trustee program (when it checks files) derive it the
same way, here, and a bad trustee count is a crypto error, not a command-line one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from . import hashing
from .dkg import CeremonyParameters
from .errors import ElectionParametersError
from .manifest import Manifest


@dataclass(frozen=True)
class Election:
    """What every message and key file of one ceremony must agree on."""

    election_id: str
    base_hash: bytes
    trustees: int
    threshold: int

    @property
    def params(self) -> CeremonyParameters:
        return CeremonyParameters(self.trustees, self.threshold, self.base_hash)

    def to_json(self) -> dict[str, Any]:
        return {
            "election_id": self.election_id,
            "base_hash": self.base_hash.hex(),
            "trustees": self.trustees,
            "threshold": self.threshold,
        }


def election_from_manifest(manifest: Manifest, trustees: int, threshold: int) -> Election:
    """H_B from the manifest and (n, t): the hash every ceremony proof is bound to.

    Raises ``ElectionParametersError`` unless 1 <= t <= n <= MAX_TRUSTEES.
    """
    try:
        CeremonyParameters(trustees, threshold, bytes(hashing.HASH_BYTES))
    except ValueError as exc:
        raise ElectionParametersError(str(exc)) from None
    h_p = hashing.parameter_hash()
    h_m = hashing.manifest_hash(h_p, manifest.canonical_bytes())
    return Election(
        manifest.election_id,
        hashing.election_base_hash(h_p, h_m, trustees, threshold),
        trustees,
        threshold,
    )
