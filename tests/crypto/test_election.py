"""The election identity (H_B from manifest and (n, t)) that publish_election_context checks."""

from __future__ import annotations

import pytest

from civic_votecrypto import hashing
from civic_votecrypto.dkg import MAX_TRUSTEES, CeremonyParameters
from civic_votecrypto.election import Election, election_from_manifest
from civic_votecrypto.errors import CryptoError, ElectionParametersError
from civic_votecrypto.manifest import Manifest
from tests.crypto.election_factory import MANIFEST_JSON, manifest


@pytest.mark.parametrize(
    ("trustees", "threshold"),
    [(0, 0), (3, 0), (3, 4), (-1, 1), (MAX_TRUSTEES + 1, 2)],
)
def test_a_bad_trustee_count_is_a_crypto_error(trustees: int, threshold: int) -> None:
    with pytest.raises(ElectionParametersError, match="need 1 <= t <= n") as caught:
        election_from_manifest(manifest(), trustees, threshold)
    assert isinstance(caught.value, CryptoError)


def test_the_base_hash_binds_manifest_and_trustee_count() -> None:
    """What publish_election_context compares with the ceremony's own base hash."""
    election = election_from_manifest(manifest(), 3, 2)
    other_manifest = Manifest.from_json({**MANIFEST_JSON, "title": "Another vote"})
    assert election == Election(
        MANIFEST_JSON["election_id"], election.base_hash, trustees=3, threshold=2
    )
    assert len(election.base_hash) == hashing.HASH_BYTES
    assert election.params == CeremonyParameters(3, 2, election.base_hash)
    assert election_from_manifest(manifest(), 3, 2) == election
    assert election_from_manifest(other_manifest, 3, 2).base_hash != election.base_hash
    assert election_from_manifest(manifest(), 4, 2).base_hash != election.base_hash
    assert election_from_manifest(manifest(), 3, 3).base_hash != election.base_hash


def test_the_election_json_names_every_field() -> None:
    election = election_from_manifest(manifest(), 3, 2)
    assert election.to_json() == {
        "election_id": MANIFEST_JSON["election_id"],
        "base_hash": election.base_hash.hex(),
        "trustees": 3,
        "threshold": 2,
    }
