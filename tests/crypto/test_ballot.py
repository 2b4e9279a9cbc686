"""Ballots for every question type: exact homomorphic tallies, verification, codes,
Benaloh challenge, and rejection of malformed or forged ballots."""

from __future__ import annotations

import copy
import functools
import json
import random
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from civic_votecrypto import ballot as B
from civic_votecrypto import elgamal, group, proofs
from civic_votecrypto.errors import BallotError, CryptoError, EncodingError, ProofError
from civic_votecrypto.hashing import DeterministicScalars, Tag
from civic_votecrypto.manifest import Manifest, is_identifier, is_title

SECRET = DeterministicScalars(b"test-ballot")()
KEY = group.base_mul(SECRET)

MANIFEST_JSON: dict[str, Any] = {
    "election_id": "city-2026",
    "title": "City vote",
    "contests": [
        {
            "id": "park",
            "type": "yes_no_abstain",
            "title": "New park?",
            "options": [
                {"id": "yes", "title": "Yes"},
                {"id": "no", "title": "No"},
                {"id": "abstain", "title": "Abstain"},
            ],
        },
        {
            "id": "mayor",
            "type": "one_of_n",
            "title": "Mayor",
            "allow_blank": True,
            "options": [
                {"id": "ana", "title": "Ana"},
                {"id": "ben", "title": "Ben"},
                {"id": "cy", "title": "Cy"},
            ],
        },
        {
            "id": "council",
            "type": "approval",
            "title": "Council",
            "min_selections": 1,
            "max_selections": 2,
            "options": [
                {"id": "a", "title": "A"},
                {"id": "b", "title": "B"},
                {"id": "c", "title": "C"},
            ],
        },
        {
            "id": "priorities",
            "type": "score",
            "title": "Priorities",
            "max_score": 3,
            "max_total": 4,
            "options": [{"id": "roads", "title": "Roads"}, {"id": "parks", "title": "Parks"}],
        },
        {
            "id": "budget",
            "type": "budget",
            "title": "Budget",
            "budget": 10,
            "options": [
                {"id": "lib", "title": "Library", "cost": 6},
                {"id": "bike", "title": "Bike lanes", "cost": 3},
                {"id": "trees", "title": "Trees", "cost": 2},
            ],
        },
    ],
}
MANIFEST = Manifest.from_json(MANIFEST_JSON)
CTX = B.ElectionContext.build(MANIFEST, KEY, trustees=1, threshold=1)


def random_choices(rng: random.Random) -> dict[str, dict[str, int]]:
    """A valid random ballot for MANIFEST."""
    council = rng.choice([["a"], ["b"], ["c"], ["a", "b"], ["a", "c"], ["b", "c"]])
    roads = rng.randint(0, 3)
    budget_sets = [
        [],
        ["lib"],
        ["bike"],
        ["trees"],
        ["lib", "bike"],
        ["lib", "trees"],
        ["bike", "trees"],
    ]
    return {
        "park": {rng.choice(["yes", "no", "abstain"]): 1},
        "mayor": {} if rng.random() < 0.2 else {rng.choice(["ana", "ben", "cy"]): 1},
        "council": dict.fromkeys(council, 1),
        "priorities": {"roads": roads, "parks": rng.randint(0, min(3, 4 - roads))},
        "budget": dict.fromkeys(rng.choice(budget_sets), 1),
    }


def test_manifest_round_trip_and_rules() -> None:
    assert Manifest.from_json(MANIFEST.to_json()) == MANIFEST
    assert MANIFEST.contest("budget").weights == (6, 3, 2)
    assert MANIFEST.contest("budget").limit == (0, 10)
    assert MANIFEST.contest("mayor").limit == (0, 1)
    assert MANIFEST.contest("council").limit == (1, 2)
    assert MANIFEST.contest("priorities").max_value == 3
    assert MANIFEST.contest("park").limit == (1, 1)


@pytest.mark.parametrize(
    "mutate",
    [
        lambda m: m["contests"][0]["options"].pop(),  # yes/no/abstain needs 3
        lambda m: m["contests"][1].update(allow_blank="yes"),
        lambda m: m["contests"][2].update(max_selections=9),
        lambda m: m["contests"][3].update(max_score=0),
        lambda m: m["contests"][4]["options"][0].update(cost=0),
        lambda m: m["contests"][4]["options"][0].pop("cost"),
        lambda m: m["contests"][1]["options"].append({"id": "ana", "title": "dup"}),
        lambda m: m["contests"].append(copy.deepcopy(m["contests"][0])),
        lambda m: m["contests"][0].update(type="ranked"),
        lambda m: m.update(extra=1),
        lambda m: m["contests"][0].update(id=""),
    ],
)
def test_bad_manifests_refused(mutate) -> None:  # type: ignore[no-untyped-def]
    doc = copy.deepcopy(MANIFEST_JSON)
    mutate(doc)
    with pytest.raises(BallotError):
        Manifest.from_json(doc)


def test_tallies_exact_for_every_question_type() -> None:
    rng = random.Random(2026)
    ballots, expected = [], {c.id: {o.id: 0 for o in c.options} for c in MANIFEST.contests}
    for i in range(6):
        choices = random_choices(rng)
        for cid, opts in choices.items():
            for oid, v in opts.items():
                expected[cid][oid] += v
        ballots.append(B.encrypt_ballot(CTX, f"ballot-{i}", choices))
    assert B.verify_ballots(CTX, ballots) == []
    for ci, contest in enumerate(MANIFEST.contests):
        for oi, option in enumerate(contest.options):
            total = elgamal.aggregate([b.contests[ci].selections[oi].ciphertext for b in ballots])
            assert elgamal.decrypt_small(SECRET, total, bound=30) == expected[contest.id][option.id]


def test_ballot_round_trip_code_and_determinism() -> None:
    choices = {
        "park": {"no": 1},
        "mayor": {"cy": 1},
        "council": {"a": 1, "c": 1},
        "priorities": {"roads": 3, "parks": 1},
        "budget": {"lib": 1, "trees": 1},
    }
    seed = bytes(range(32))
    ballot = B.encrypt_ballot(CTX, "b-1", choices, seed)
    assert B.encrypt_ballot(CTX, "b-1", choices, seed) == ballot  # deterministic in the seed
    B.verify_ballot(CTX, ballot)
    again = B.decode_ballot(ballot.to_json())
    assert again == ballot
    assert len(ballot.tracking_code) == 29 and ballot.tracking_code.count("-") == 5
    other = B.encrypt_ballot(CTX, "b-1", choices, bytes(32))
    assert other.code != ballot.code


@pytest.mark.parametrize(
    "choices",
    [
        {"park": {"yes": 1, "no": 1}},  # two answers to yes/no/abstain
        {"park": {}},  # yes/no/abstain requires an answer
        {"park": {"yes": 1}, "mayor": {"ana": 1, "ben": 1}},
        {"park": {"yes": 1}, "council": {}},  # approval min 1
        {"park": {"yes": 1}, "council": {"a": 1, "b": 1, "c": 1}},
        {"park": {"yes": 1}, "council": {"a": 1}, "priorities": {"roads": 4}},
        {"park": {"yes": 1}, "council": {"a": 1}, "priorities": {"roads": 3, "parks": 2}},
        {"park": {"yes": 1}, "council": {"a": 1}, "budget": {"lib": 1, "bike": 1, "trees": 1}},
        {"park": {"yes": 1}, "council": {"a": 1}, "mayor": {"ana": -1}},
        {"park": {"yes": 1}, "council": {"a": 1}, "mayor": {"zed": 1}},
        {"park": {"yes": 1}, "council": {"a": 1}, "nope": {}},
        {"park": {"yes": True}, "council": {"a": 1}},
    ],
)
def test_invalid_choices_refused(choices) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(BallotError):
        B.encrypt_ballot(CTX, "b", choices)


GOOD = B.encrypt_ballot(
    CTX,
    "good",
    {
        "park": {"yes": 1},
        "mayor": {"ben": 1},
        "council": {"b": 1},
        "priorities": {"parks": 2},
        "budget": {"bike": 1},
    },
    bytes(32),
)


def _forgeries() -> dict[str, Any]:
    doc = GOOD.to_json()
    out: dict[str, Any] = {}

    def variant(name: str, fn) -> None:  # type: ignore[no-untyped-def]
        d = copy.deepcopy(doc)
        fn(d)
        out[name] = d

    sel = lambda d, c, s: d["contests"][c]["selections"][s]  # noqa: E731
    variant(
        "swap two ciphertexts",
        lambda d: (lambda a, b: (a.update(ciphertext=b["ciphertext"]), None))(
            sel(d, 1, 0), copy.deepcopy(sel(doc, 1, 1))
        ),
    )
    variant("swap selections", lambda d: d["contests"][1]["selections"].reverse())
    variant("drop a contest", lambda d: d["contests"].pop())
    variant("other ballot id", lambda d: d.update(ballot_id="other"))
    variant("other context", lambda d: d.update(context_hash="00" * 32))
    variant("flip code bit", lambda d: d.update(code=format(int(d["code"], 16) ^ 1, "064x")))
    variant(
        "limit proof of another contest",
        lambda d: d["contests"][0].update(limit_proof=doc["contests"][1]["limit_proof"]),
    )
    variant(
        "range proof of another option",
        lambda d: sel(d, 2, 0).update(proof=sel(doc, 2, 1)["proof"]),
    )
    variant(
        "flip response bit",
        lambda d: sel(d, 3, 1)["proof"]["branches"][2].update(
            v=format(int(sel(doc, 3, 1)["proof"]["branches"][2]["v"], 16) ^ 1 << 9, "064x")
        ),
    )
    return out


@pytest.mark.parametrize("name", sorted(_forgeries()))
def test_forged_ballots_rejected(name: str) -> None:
    doc = _forgeries()[name]
    try:
        ballot = B.decode_ballot(doc)
    except EncodingError:
        return
    with pytest.raises(CryptoError):
        B.verify_ballot(CTX, ballot)
    assert B.verify_ballots(CTX, [GOOD, ballot]) != []


def test_over_limit_ballot_made_by_a_cheating_device_is_rejected() -> None:
    # A device encrypts "yes" twice (2 votes) and fakes the limit proof with a wrong value.

    ballot = B.encrypt_ballot(CTX, "cheat", {"park": {"yes": 1}, "council": {"a": 1}}, bytes(32))
    contest = ballot.contests[0]
    r = B.selection_nonce(CTX.extended_hash, bytes(32), "cheat", 0, 1)
    doubled = elgamal.encrypt(KEY, 1, r)  # "no" now also 1 -> total 2
    sel_proof = proofs.prove_range(
        CTX.extended_hash, KEY, doubled, 1, r, 0, 1, label=B.selection_label("cheat", "park", "no")
    )
    sels = (
        contest.selections[0],
        B.EncryptedSelection("no", doubled, sel_proof),
        contest.selections[2],
    )
    total = elgamal.aggregate([s.ciphertext for s in sels])
    fake = proofs.prove_range(
        CTX.extended_hash,
        KEY,
        total,
        1,
        1,
        1,
        1,
        tag=Tag.LIMIT_CHALLENGE,
        label=B.limit_label("cheat", "park"),
    )
    contests = (B.EncryptedContest("park", sels, fake), *ballot.contests[1:])
    forged = B.EncryptedBallot(
        "cheat",
        ballot.context_hash,
        contests,
        B.ballot_code(ballot.context_hash, "cheat", contests),
    )
    with pytest.raises(ProofError):
        B.verify_ballot(CTX, forged)
    bad = B.verify_ballots(CTX, [GOOD, forged, ballot])
    assert [bid for bid, _ in bad] == ["cheat"]


def test_strict_ballot_json() -> None:
    doc = GOOD.to_json()
    for mutate in (
        lambda d: d.update(version="civic-ballot-v0"),
        lambda d: d.pop("code"),
        lambda d: d.update(extra=1),
        lambda d: d.update(code=d["code"].upper()),
        lambda d: d["contests"][0]["selections"][0].update(ciphertext={"alpha": "00"}),
        lambda d: d["contests"][0].update(selections="x"),
        lambda d: d.update(ballot_id=""),
    ):
        d = copy.deepcopy(doc)
        mutate(d)
        with pytest.raises(EncodingError):
            B.decode_ballot(d)


def test_benaloh_challenge() -> None:
    choices = {"park": {"abstain": 1}, "council": {"a": 1, "b": 1}, "budget": {"lib": 1, "bike": 1}}
    seed = B.new_seed()
    ballot = B.encrypt_ballot(CTX, "audit-me", choices, seed)
    spoiled = B.challenge_ballot(ballot, seed, choices)
    revived = B.ChallengedBallot.from_json(spoiled.to_json())
    B.verify_challenged_ballot(CTX, revived)
    # the device lied: it encrypted other choices than the voter picked
    lying = B.challenge_ballot(ballot, seed, {**choices, "park": {"yes": 1}})
    with pytest.raises(BallotError, match="cheated"):
        B.verify_challenged_ballot(CTX, lying)
    with pytest.raises(BallotError):
        B.verify_challenged_ballot(CTX, B.challenge_ballot(ballot, bytes(32), choices))
    with pytest.raises(BallotError):  # revealed choices break the rules
        B.verify_challenged_ballot(CTX, B.challenge_ballot(ballot, seed, {"park": {}}))
    with pytest.raises(EncodingError):
        B.ChallengedBallot.from_json({**spoiled.to_json(), "choices": {"park": {"yes": "1"}}})


def test_ballot_for_another_election_is_rejected() -> None:
    other_ctx = B.ElectionContext.build(MANIFEST, KEY, trustees=3, threshold=2)
    with pytest.raises(BallotError):
        B.verify_ballot(other_ctx, GOOD)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(node, dict):
        for k, v in node.items():
            out.extend(_paths(v, (*prefix, k)))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out.extend(_paths(v, (*prefix, i)))
    return out


GOOD_DOC = GOOD.to_json()
GOOD_PATHS = _paths(GOOD_DOC)[1:]
junk = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.text(max_size=70),
    st.sampled_from(["02" + "ff" * 32, "03" + "00" * 32, "00" * 32, "ff" * 32]),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
)


@settings(max_examples=25, deadline=None)
@given(st.sampled_from(GOOD_PATHS), junk)
def test_any_mutation_is_a_clean_rejection(path: tuple[Any, ...], value: Any) -> None:
    """Whatever is changed, decoding and verification raise only CryptoError subclasses."""
    doc = copy.deepcopy(GOOD_DOC)
    node = doc
    for key in path[:-1]:
        node = node[key]
    if node[path[-1]] == value:
        return
    node[path[-1]] = value
    with group.use_backend("native"):
        try:
            ballot = B.decode_ballot(doc)
            B.verify_ballot(CTX, ballot)
        except CryptoError:
            return
    raise AssertionError(f"mutation at {path} was accepted")


def test_aggregate_at_infinity_is_a_clean_rejection() -> None:
    """Nonces r1 + r2 + r3 = 0 make the contest aggregate's alpha the identity: unencodable."""
    bid, h_e = "zero-sum", CTX.extended_hash
    base = B.encrypt_ballot(CTX, bid, {"park": {"yes": 1}, "council": {"a": 1}}, bytes(32))
    nonces = [11, 22, group.N - 33]
    sels = []
    for option, value, r in zip(("yes", "no", "abstain"), (1, 0, 0), nonces, strict=True):
        ct = elgamal.encrypt(KEY, value, r)
        proof = proofs.prove_range(
            h_e, KEY, ct, value, r, 0, 1, label=B.selection_label(bid, "park", option)
        )
        sels.append(B.EncryptedSelection(option, ct, proof))
    assert elgamal.aggregate([s.ciphertext for s in sels]).alpha == group.IDENTITY
    contests = (
        B.EncryptedContest("park", tuple(sels), base.contests[0].limit_proof),
        *base.contests[1:],
    )
    forged = B.EncryptedBallot(bid, h_e, contests, B.ballot_code(h_e, bid, contests))
    with pytest.raises(CryptoError):
        B.verify_ballot(CTX, forged)
    assert [b for b, _ in B.verify_ballots(CTX, [GOOD, forged])] == [bid]


# -- rules pinned after cross-checking with the JavaScript twin --------------------------------
SPACED_HEX = "00 " + "11" * 30 + " "  # 64 characters that bytes.fromhex would read as 31 bytes


@pytest.mark.parametrize("field", ["context_hash", "code"])
def test_hex_fields_with_whitespace_are_encoding_errors(field: str) -> None:
    doc = copy.deepcopy(GOOD_DOC)
    doc[field] = SPACED_HEX
    assert len(doc[field]) == 64
    with pytest.raises(EncodingError, match="hex"):
        B.decode_ballot(doc)


def test_challenged_seed_with_whitespace_is_an_encoding_error() -> None:
    spoiled = B.challenge_ballot(GOOD, bytes(32), {}).to_json()
    for seed in (SPACED_HEX, "\t" + "ab" * 31 + "\n", "ab" * 31 + "a\n"):
        with pytest.raises(EncodingError):
            B.ChallengedBallot.from_json({**spoiled, "seed": seed})


json_leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 5),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=4),
    st.sampled_from(["yes", "ana", "lib", "park", "mayor", "budget"]),
)
json_like = st.recursive(
    json_leaf,
    lambda children: st.one_of(
        st.lists(children, max_size=3),
        st.dictionaries(
            st.one_of(
                st.sampled_from(["park", "mayor", "yes", "ana", "roads"]), st.text(max_size=3)
            ),
            children,
            max_size=3,
        ),
        # keys that JSON cannot produce but a Python caller can
        st.dictionaries(st.one_of(st.integers(-2, 2), st.none()), children, max_size=2),
    ),
    max_leaves=8,
)


@settings(max_examples=300, deadline=None)
@given(json_like)
def test_any_choices_structure_is_accepted_or_a_ballot_error(choices: Any) -> None:
    """Lists, ints, floats, None, non-string keys, at any level: BallotError, never a crash."""
    try:
        values = B.normalize_choices(MANIFEST, choices)
    except BallotError:
        return
    assert len(values) == len(MANIFEST.contests)
    assert all(type(v) is int for row in values for v in row)


@pytest.mark.parametrize(
    "choices",
    [[], 5, "park", None, {"park": []}, {"park": 1}, {"park": ["yes"]}, {"park": {"yes": 1.0}}],
)
def test_malformed_choices_are_ballot_errors(choices: Any) -> None:
    with pytest.raises(BallotError):
        B.normalize_choices(MANIFEST, choices)
    with pytest.raises(BallotError):
        B.encrypt_ballot(CTX, "b", choices, bytes(32))


@pytest.mark.parametrize("ballot_id", ["", "x" * 129, "with space", "café", "a\nb", None, 7])
def test_encrypting_with_a_bad_ballot_id_is_a_ballot_error(ballot_id: Any) -> None:
    with pytest.raises(BallotError):
        B.encrypt_ballot(CTX, ballot_id, {"park": {"yes": 1}, "council": {"a": 1}}, bytes(32))


@pytest.mark.parametrize(
    "title",
    [
        "\ud800",  # lone high surrogate
        "ok \udfff",  # lone low surrogate
        "tab\there",
        "line\nbreak",
        "\x7f",
        "c1 \x85 control",
        "é" * 513,  # 1026 UTF-8 bytes
        7,
        None,
    ],
)
@pytest.mark.parametrize("where", ["manifest", "contest", "option"])
def test_bad_titles_are_refused_when_the_manifest_is_parsed(title: Any, where: str) -> None:
    doc = copy.deepcopy(MANIFEST_JSON)
    target = {
        "manifest": doc,
        "contest": doc["contests"][1],
        "option": doc["contests"][1]["options"][0],
    }
    target[where]["title"] = title
    with pytest.raises(BallotError, match="title"):
        Manifest.from_json(doc)


@pytest.mark.parametrize(
    "title",
    ["", "Ärzte & Kinder 🌳", "\u2028 line separator", "\u00a0nbsp", "\ufeff", "\U000e0001",
     "\u0378 unassigned in every Unicode so far", "\U0001fae9 new in Unicode 15+", "x" * 1024],
)  # fmt: skip
def test_titles_are_any_scalar_values_except_controls(title: str) -> None:
    doc = copy.deepcopy(MANIFEST_JSON)
    doc["title"] = title
    manifest = Manifest.from_json(doc)
    assert manifest.title == title
    assert manifest.canonical_bytes()  # always canonicalisable (no rfc8785 error later)


@pytest.mark.parametrize(
    ("ident", "ok"),
    [("a", True), ("A-z_0.9:x", True), ("x" * 128, True), ("", False), ("x" * 129, False),
     ("with space", False), ("café", False), ("a/b", False), ("a\u2028b", False), ("１", False),
     ("\U0001fae9", False), ("a\n", False)],
)  # fmt: skip
def test_identifiers_are_ascii_only(ident: str, ok: bool) -> None:
    assert is_identifier(ident) is ok
    doc = copy.deepcopy(MANIFEST_JSON)
    doc["contests"][1]["options"][0]["id"] = ident
    if ok:
        assert Manifest.from_json(doc).contests[1].options[0].id == ident
    else:
        with pytest.raises(BallotError):
            Manifest.from_json(doc)


def test_text_rules_do_not_depend_on_the_unicode_database() -> None:
    """Every code point: titles allow exactly the non-Cc scalar values, ids exactly 66 ASCII."""
    allowed_ids = {chr(c) for c in range(0x110000) if is_identifier(chr(c))}
    assert allowed_ids == set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:-")
    refused_titles = [c for c in range(0x110000) if not is_title(chr(c))]
    assert refused_titles == [*range(0x20), *range(0x7F, 0xA0), *range(0xD800, 0xE000)]


@pytest.mark.parametrize(
    "mutate",
    [
        lambda m: m["contests"][3].update(max_score=3.0),
        lambda m: m["contests"][4].update(budget=1e1),
        lambda m: m["contests"][4]["options"][0].update(cost=6.0),
        lambda m: m["contests"][2].update(min_selections=True),
    ],
)
def test_integers_written_as_floats_or_booleans_are_refused(mutate) -> None:  # type: ignore[no-untyped-def]
    doc = copy.deepcopy(MANIFEST_JSON)
    mutate(doc)
    with pytest.raises(BallotError, match="integer"):
        Manifest.from_json(doc)


def test_manifest_hash_is_over_the_normalised_form() -> None:
    """Whitespace, key order and escapes of the published text do not change H_M (§6)."""
    published = json.dumps(
        {k: MANIFEST_JSON[k] for k in reversed(list(MANIFEST_JSON))}, indent=3, ensure_ascii=True
    )
    reparsed = Manifest.from_json(json.loads(published))
    assert reparsed.canonical_bytes() == MANIFEST.canonical_bytes()
    assert B.ElectionContext.build(reparsed, KEY, 1, 1).manifest_hash == CTX.manifest_hash
    assert MANIFEST.canonical_bytes().startswith(b'{"contests":[{"id":"park","options":')


# -- the context message and receipts (§7.6, §7.7) ---------------------------------------------
CTX3 = B.ElectionContext.build(MANIFEST, KEY, 3, 2, [group.base_mul(k) for k in (5, 6, 7)])


def test_context_message_round_trip() -> None:
    doc = CTX3.to_json()
    assert set(doc) == {
        "manifest",
        "joint_key",
        "trustees",
        "threshold",
        "trustee_commitments",
        "extended_hash",
    }
    parsed = B.ElectionContext.from_json(doc)
    assert parsed == CTX3 and parsed.to_json() == doc
    without_hash = {k: v for k, v in doc.items() if k != "extended_hash"}
    assert B.ElectionContext.from_json(without_hash).extended_hash == CTX3.extended_hash


@pytest.mark.parametrize(
    ("mutate", "error"),
    [
        (lambda d: d.pop("trustee_commitments"), EncodingError),
        (lambda d: d.update(extra=1), EncodingError),
        (lambda d: d.update(threshold=4), EncodingError),
        (lambda d: d.update(trustees=0), EncodingError),
        (lambda d: d.update(trustees=3.0), EncodingError),
        (lambda d: d.update(threshold=True), EncodingError),
        (lambda d: d.update(joint_key=d["joint_key"][:-2] + "zz"), EncodingError),
        (lambda d: d.update(trustee_commitments="02"), EncodingError),
        (lambda d: d.update(extended_hash=SPACED_HEX), EncodingError),
        (lambda d: d.update(extended_hash="00" * 32), BallotError),
        (lambda d: d["manifest"].update(title="\ud800"), BallotError),
        (lambda d: d.update(manifest=[]), BallotError),
    ],
)
def test_bad_context_messages_are_clean_errors(mutate, error) -> None:  # type: ignore[no-untyped-def]
    doc = copy.deepcopy(CTX3.to_json())
    mutate(doc)
    with pytest.raises(error):
        B.ElectionContext.from_json(doc)
    with pytest.raises(EncodingError):
        B.ElectionContext.from_json([doc])


def test_a_context_rebuilt_from_published_hashes_cannot_be_republished() -> None:
    bare = B.ElectionContext(*(getattr(CTX, f) for f in ("manifest", "joint_key", "parameter_hash", "manifest_hash", "base_hash", "extended_hash")))  # fmt: skip
    with pytest.raises(BallotError):
        bare.to_json()


@functools.cache
def _receipt_json() -> str:
    ballot = B.encrypt_ballot(
        CTX3, "receipt-1", {"park": {"no": 1}, "council": {"c": 1}}, bytes(32)
    )
    receipt = {
        "context": CTX3.to_json(),
        "ballot": ballot.to_json(),
        "tracking_code": ballot.tracking_code,
    }
    return json.dumps(receipt)


def _receipt() -> dict[str, Any]:
    """A fresh copy of one valid receipt (tests mutate it)."""
    return json.loads(_receipt_json())


def test_receipt_checks_pass_for_a_good_receipt() -> None:
    receipt = _receipt()
    checks = B.verify_receipt(receipt)
    assert [name for name, _, _ in checks] == [
        "election context", "ballot encoding", "tracking code", "binding and code", "proofs"
    ]  # fmt: skip
    assert B.receipt_ok(checks), checks
    assert checks[0][2] == f"H_E = {CTX3.extended_hash.hex()}"
    assert checks[-1][2] == "19 range and limit proofs hold"  # 14 options + 5 limits
    del receipt["tracking_code"]
    assert [n for n, _, _ in B.verify_receipt(receipt)] == [
        "election context", "ballot encoding", "binding and code", "proofs"
    ]  # fmt: skip


def _failing(receipt: Any) -> list[tuple[str, str]]:
    checks = B.verify_receipt(receipt)
    assert not B.receipt_ok(checks)
    return [(name, detail.split(":")[0]) for name, ok, detail in checks if not ok]


def test_receipt_checks_fail_precisely() -> None:
    good = _receipt()
    flipped_v = copy.deepcopy(good)
    branch = flipped_v["ballot"]["contests"][4]["limit_proof"]["branches"][1]
    branch["v"] = format(int(branch["v"], 16) ^ 1, "064x")
    assert _failing(flipped_v) == [("proofs", "ProofError")]
    assert _failing({**good, "tracking_code": "AAAA-AAAA-AAAA-AAAA-AAAA-AAAA"}) == [
        ("tracking code", "BallotError")
    ]
    other = {**good, "context": {**good["context"], "threshold": 1}}
    del other["context"]["extended_hash"]
    assert _failing(other) == [("binding and code", "BallotError")]
    assert _failing({**good, "ballot": {**good["ballot"], "version": "x"}}) == [
        ("ballot encoding", "EncodingError")
    ]
    assert _failing({**good, "ballot": {**good["ballot"], "code": SPACED_HEX}}) == [
        ("ballot encoding", "EncodingError")
    ]
    bad_manifest = {**good, "context": {**good["context"], "manifest": {}}}
    assert _failing(bad_manifest) == [("election context", "BallotError")]
    for not_a_receipt in (None, [], {}, {"context": good["context"]}, {**good, "manifest": {}}):
        assert _failing(not_a_receipt) == [("receipt", "EncodingError")]


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(_paths(_receipt())[1:]), junk)
def test_any_receipt_mutation_gives_a_report_not_a_crash(path: tuple[Any, ...], value: Any) -> None:
    receipt = _receipt()
    node = receipt
    for key in path[:-1]:
        node = node[key]
    if node[path[-1]] == value:
        return
    node[path[-1]] = value
    with group.use_backend("native"):
        checks = B.verify_receipt(receipt)
    assert not B.receipt_ok(checks), path


def test_large_native_batch_goes_through_buckets_and_names_the_bad_ballot() -> None:
    """Enough ballots for the native bucket MSM; a response changed by one (the challenge
    hash still matches, only a group equation fails) is found by bisection, and a ballot with
    a broken challenge is refused before any group operation."""
    from civic_votecrypto import native

    rng = random.Random(8)
    with group.use_backend("native"):
        ballots = [
            B.encrypt_ballot(CTX, f"bulk-{i}", random_choices(rng), i.to_bytes(32, "big"))
            for i in range(16)
        ]
        assert B.verify_ballots(CTX, ballots) == []
        doc = ballots[11].to_json()
        branch = doc["contests"][3]["selections"][1]["proof"]["branches"][2]
        branch["v"] = group.scalar_hex((int(branch["v"], 16) + 1) % group.N)
        bad_response = B.decode_ballot(doc)
        doc = ballots[4].to_json()
        branch = doc["contests"][0]["limit_proof"]["branches"][0]
        branch["c"] = group.scalar_hex((int(branch["c"], 16) + 1) % group.N)
        bad_challenge = B.decode_ballot(doc)
        mixed = [*ballots[:4], bad_challenge, *ballots[5:11], bad_response, *ballots[12:]]
        weigher = B.ballot_weigher(CTX, ballots[0])
        _, terms = weigher(lambda: 1)
        assert len(terms) * len(mixed) >= native.BUCKET_MSM_MIN_POINTS
        bad = dict(B.verify_ballots(CTX, mixed))
    assert set(bad) == {"bulk-4", "bulk-11"}
    assert "challenge" in bad["bulk-4"] and bad["bulk-11"] == "group equation fails"
