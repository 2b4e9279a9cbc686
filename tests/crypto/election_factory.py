"""Test support: run a small complete election (ceremony, ballots, tally, decryption, record)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from civic_votecrypto import ballot, decryption, dkg, hashing, record
from civic_votecrypto.group import N
from civic_votecrypto.hashing import DeterministicScalars
from civic_votecrypto.manifest import Manifest

MANIFEST_JSON: dict[str, Any] = {
    "election_id": "springfield-2026",
    "title": "Springfield city vote",
    "contests": [
        {
            "id": "mayor",
            "type": "one_of_n",
            "title": "Mayor",
            "allow_blank": False,
            "options": [{"id": f"cand-{i}", "title": f"Candidate {i}"} for i in range(1, 6)],
        },
        {
            "id": "parks",
            "type": "budget",
            "title": "Parks budget",
            "budget": 3,
            "options": [
                {"id": "trees", "title": "Trees", "cost": 1},
                {"id": "pond", "title": "Pond", "cost": 2},
            ],
        },
    ],
}

VOTES: list[dict[str, dict[str, int]]] = [
    {"mayor": {"cand-1": 1}, "parks": {"trees": 1, "pond": 1}},
    {"mayor": {"cand-3": 1}, "parks": {"pond": 1}},
    {"mayor": {"cand-3": 1}, "parks": {}},
    {"mayor": {"cand-5": 1}, "parks": {"trees": 1}},
]
CHALLENGED_VOTE = {"mayor": {"cand-2": 1}, "parks": {"trees": 1}}


class CheatingTrustee(dkg.Trustee):
    """Sends trustee `victim` a share that is off its committed polynomial by one."""

    victim: int = 4

    def polynomial(self, x: int) -> int:
        honest = super().polynomial(x)
        return (honest + 1) % N if x == self.victim else honest


def run_ceremony_with_cheater(
    params: dkg.CeremonyParameters, cheater: int, rng: DeterministicScalars
) -> tuple[dkg.CeremonyTranscript, list[dkg.TrusteeKeyShare]]:
    """All rounds, trustee `cheater` sending a bad share; complaints decide QUAL."""
    trustees = [
        (CheatingTrustee if i == cheater else dkg.Trustee)(params, i, f"trustee-{i}", rng=rng)
        for i in params.indices
    ]
    transcript = dkg.run_rounds(params, trustees)
    qualified = transcript.qualified()
    return transcript, [t.finalize(qualified) for t in trustees if t.index in qualified]


@dataclass
class SimulatedElection:
    manifest: Manifest
    transcript: dkg.CeremonyTranscript
    key_shares: list[dkg.TrusteeKeyShare]
    context: ballot.ElectionContext
    record: record.ElectionRecord
    expected: dict[tuple[str, str], int]


def manifest() -> Manifest:
    return Manifest.from_json(MANIFEST_JSON)


def simulate(
    trustees: int = 5,
    threshold: int = 3,
    present: Sequence[int] = (1, 3, 5),
    votes: Sequence[dict[str, dict[str, int]]] = tuple(VOTES),
    weights: Sequence[int] | None = None,
    label: str = "default",
    cheater: int | None = None,
) -> SimulatedElection:
    """Deterministic (seeded) election; absent trustees simply do not publish a tally share."""
    rng = DeterministicScalars(b"election-factory", label)
    m = manifest()
    h_p = hashing.parameter_hash()
    h_m = hashing.manifest_hash(h_p, m.canonical_bytes())
    h_b = hashing.election_base_hash(h_p, h_m, trustees, threshold)
    params = dkg.CeremonyParameters(trustees, threshold, h_b)
    if cheater is None:
        transcript, key_shares = dkg.run_ceremony(params, rng=rng)
    else:
        transcript, key_shares = run_ceremony_with_cheater(params, cheater, rng)
    ctx = record.election_context(m, transcript)
    weights = list(weights) if weights is not None else [1] * len(votes)
    cast = [
        record.CastBallot(
            ballot.encrypt_ballot(ctx, f"ballot-{i}", choices, seed=i.to_bytes(32, "big")), w
        )
        for i, (choices, w) in enumerate(zip(votes, weights, strict=True))
    ]
    seed = b"\x42" * 32
    spoiled = ballot.encrypt_ballot(ctx, "ballot-audit", CHALLENGED_VOTE, seed=seed)
    challenged = [ballot.challenge_ballot(spoiled, seed, CHALLENGED_VOTE)]
    tally = decryption.aggregate_ballots(m, [c.ballot for c in cast], weights)
    shares = [
        decryption.decrypt_share(ctx.extended_hash, k, tally, rng=rng)
        for k in key_shares
        if k.index in present
    ]
    result = decryption.decrypt_tally(
        ctx.extended_hash, tally, shares, transcript.verification_keys(), threshold
    )
    expected = {k: 0 for k in decryption.selection_keys(m)}
    for choices, w in zip(votes, weights, strict=True):
        for contest_id, options in choices.items():
            for option_id, value in options.items():
                expected[(contest_id, option_id)] += w * value
    rec = record.assemble_record(
        ctx, transcript, cast, challenged, tally, shares, result.counts, result.trustees_used
    )
    return SimulatedElection(m, transcript, key_shares, ctx, rec, expected)


@cache
def standard() -> SimulatedElection:
    """The shared 3-of-5 election with trustees 2 and 4 absent (built once per test process)."""
    return simulate()
