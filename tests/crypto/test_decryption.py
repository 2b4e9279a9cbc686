"""Threshold decryption: absent trustees tolerated, a bad partial decryption detected and named."""

from __future__ import annotations

import dataclasses
import itertools

import pytest

from civic_votecrypto import decryption, group
from civic_votecrypto.group import N
from civic_votecrypto.hashing import DeterministicScalars

from .election_factory import simulate, standard


def test_three_of_five_with_two_absent_gives_the_exact_tally() -> None:
    election = standard()
    assert election.record.result_trustees == (1, 3, 5)
    assert election.record.results == election.expected
    assert election.expected[("mayor", "cand-3")] == 2  # the data is not trivially all zeros


def test_every_three_trustee_subset_decrypts_identically() -> None:
    election = standard()
    ctx, tally = election.context, election.record.tally
    rng = DeterministicScalars(b"decryption-test", "subsets")
    all_shares = {
        k.index: decryption.decrypt_share(ctx.extended_hash, k, tally, rng=rng)
        for k in election.key_shares
    }
    keys = election.transcript.verification_keys()
    for subset in itertools.combinations(range(1, 6), 3):
        result = decryption.decrypt_tally(
            ctx.extended_hash, tally, [all_shares[j] for j in subset], keys, 3
        )
        assert result.counts == election.expected and result.trustees_used == subset
    with pytest.raises(decryption.DecryptionError, match="only 2 valid tally shares, 3 needed"):
        decryption.decrypt_tally(ctx.extended_hash, tally, [all_shares[1], all_shares[2]], keys, 3)


def _cheating_share(election, trustee: int) -> decryption.TallyShare:
    """Trustee decrypts with a wrong key (s+1) and proves *that*: self-consistent but wrong."""
    honest = next(k for k in election.key_shares if k.index == trustee)
    wrong = dataclasses.replace(honest, share=(honest.share + 1) % N)
    return decryption.decrypt_share(
        election.context.extended_hash,
        wrong,
        election.record.tally,
        rng=DeterministicScalars(b"x", "cheat"),
    )


def test_bad_partial_decryption_is_detected_and_named() -> None:
    election = standard()
    ctx, tally = election.context, election.record.tally
    keys = election.transcript.verification_keys()
    shares = {s.trustee: s for s in election.record.tally_shares}
    bad = _cheating_share(election, 3)
    with pytest.raises(
        decryption.PartialDecryptionError, match="trustee 3: decryption proof fails"
    ) as err:
        decryption.verify_tally_share(ctx.extended_hash, keys[3], tally, bad)
    assert err.value.trustee == 3
    # exactly t present, one of them cheats: refuse, naming the cheater
    with pytest.raises(decryption.DecryptionError, match="trustee 3"):
        decryption.decrypt_tally(ctx.extended_hash, tally, [shares[1], bad, shares[5]], keys, 3)
    # one more honest trustee shows up: the cheater is excluded and the tally is still exact
    rng = DeterministicScalars(b"decryption-test", "extra")
    extra = decryption.decrypt_share(ctx.extended_hash, election.key_shares[1], tally, rng=rng)
    result = decryption.decrypt_tally(
        ctx.extended_hash, tally, [shares[1], bad, shares[5], extra], keys, 3
    )
    assert result.counts == election.expected
    assert result.trustees_used == (1, 2, 5) and set(result.rejected) == {3}


def test_a_single_forged_partial_is_found_among_many() -> None:
    election = standard()
    ctx, tally = election.context, election.record.tally
    keys = election.transcript.verification_keys()
    share = election.record.tally_shares[1]
    target = ("parks", "pond")
    partial = share.partials[target]
    forged = dataclasses.replace(partial, share=partial.share + group.G)  # shifts the count by one
    tampered = dataclasses.replace(share, partials={**share.partials, target: forged})
    with pytest.raises(decryption.PartialDecryptionError, match="parks/pond") as err:
        decryption.verify_tally_share(ctx.extended_hash, keys[share.trustee], tally, tampered)
    assert err.value.trustee == share.trustee and "mayor" not in str(err.value)


def test_duplicate_and_unknown_trustees_are_rejected() -> None:
    election = standard()
    ctx, tally = election.context, election.record.tally
    keys = election.transcript.verification_keys()
    s1, s3, s5 = election.record.tally_shares
    with pytest.raises(decryption.DecryptionError, match="more than one tally share"):
        decryption.decrypt_tally(ctx.extended_hash, tally, [s1, s3, s3, s5], {**keys}, 3)
    restricted = {j: k for j, k in keys.items() if j != 5}
    with pytest.raises(decryption.DecryptionError, match="not a qualified trustee"):
        decryption.decrypt_tally(ctx.extended_hash, tally, [s1, s3, s5], restricted, 3)


def test_weighted_ballots_are_tallied_with_their_weights() -> None:
    votes = [{"mayor": {"cand-1": 1}, "parks": {"trees": 1}}, {"mayor": {"cand-2": 1}, "parks": {}}]
    election = simulate(
        trustees=3, threshold=2, present=(2, 3), votes=votes, weights=[7, 1000], label="weights"
    )
    assert election.record.results[("mayor", "cand-1")] == 7
    assert election.record.results[("mayor", "cand-2")] == 1000
    assert election.record.results[("parks", "trees")] == 7
    assert election.record.results == election.expected


def test_native_backend_aggregates_and_combines_identically() -> None:
    election = standard()
    ballots = [c.ballot for c in election.record.cast]
    reference = decryption.aggregate_ballots(election.manifest, ballots)
    with group.use_backend("native"):
        native = decryption.aggregate_ballots(election.manifest, ballots)
        keys = election.transcript.verification_keys()
        result = decryption.decrypt_tally(
            election.context.extended_hash, native, list(election.record.tally_shares), keys, 3
        )
    assert native == reference == election.record.tally
    assert result.counts == election.expected


def test_empty_aggregate_decrypts_to_zero_with_null_partials() -> None:
    """An election without ballots: every partial is null (s_j·O = O, nothing to prove),
    the JSON round-trips, and every count is 0 (docs/protocol-trustees.md §4)."""
    election = standard()
    empty = decryption.aggregate_ballots(election.manifest, [])
    assert decryption.EncryptedTally.from_json(empty.to_json(), election.manifest) == empty
    assert all(
        v == {"alpha": None, "beta": None}
        for c in empty.to_json()["contests"].values()
        for v in c.values()
    )
    h_e = election.context.extended_hash
    shares = [decryption.decrypt_share(h_e, k, empty) for k in election.key_shares[:3]]
    assert all(p is None for c in shares[0].to_json()["contests"].values() for p in c.values())
    decoded = [decryption.TallyShare.from_json(s.to_json(), election.manifest) for s in shares]
    result = decryption.decrypt_tally(
        h_e, empty, decoded, election.transcript.verification_keys(), 3
    )
    assert set(result.counts.values()) == {0}
    # a real partial where the aggregate is empty (or null where it is not) is refused
    full = election.record.tally
    with pytest.raises(decryption.PartialDecryptionError, match="null"):
        decryption.verify_tally_share(
            h_e, election.transcript.verification_keys()[shares[0].trustee], full, shares[0]
        )


def test_check_result_accepts_only_the_true_count() -> None:
    election = standard()
    key = ("mayor", "cand-3")
    ct = election.record.tally.ciphertexts[key]
    shares = {s.trustee: s.partials[key].share for s in election.record.tally_shares}
    assert decryption.check_result(ct, shares, 2)
    assert not decryption.check_result(ct, shares, 3)
