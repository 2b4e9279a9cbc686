"""Cross-language tests: ballots made in JavaScript verify in Python and vice versa.

The browser twin (voting/static/voting/js) runs under Node through tests/js/tools/interop.mjs;
both sides must agree byte for byte (same seed, same ballot), accept each other's ballots and
challenged ballots, and reject the same flipped bits.
"""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from voting.crypto import ballot as B
from voting.crypto import group
from voting.crypto.errors import CryptoError
from voting.crypto.group import base_mul
from voting.crypto.manifest import Manifest

REPO = Path(__file__).resolve().parents[2]
INTEROP = REPO / "tests" / "js" / "tools" / "interop.mjs"

MANIFEST_JSON: dict[str, Any] = {
    "election_id": "interop-election",
    "title": "Interop election",
    "contests": [
        {"id": "ref", "type": "yes_no_abstain", "title": "Referendum", "options": [
            {"id": "yes", "title": "Yes"}, {"id": "no", "title": "No"}, {"id": "abstain", "title": "Abstain"}]},
        {"id": "mayor", "type": "one_of_n", "title": "Mayor", "allow_blank": False, "options": [
            {"id": f"c{i}", "title": f"Candidate {i}"} for i in range(1, 5)]},
        {"id": "board", "type": "approval", "title": "Board", "min_selections": 0, "max_selections": 2,
         "options": [{"id": "x", "title": "X"}, {"id": "y", "title": "Y"}, {"id": "z", "title": "Z"}]},
        {"id": "prio", "type": "score", "title": "Priorités", "max_score": 2, "max_total": 3,
         "options": [{"id": "p", "title": "P"}, {"id": "q", "title": "Q"}]},
        {"id": "pb", "type": "budget", "title": "Budget", "budget": 5, "options": [
            {"id": "lib", "title": "Library", "cost": 3}, {"id": "trees", "title": "Trees", "cost": 2}]},
    ],
}  # fmt: skip

CHOICES: list[dict[str, dict[str, int]]] = [
    {"ref": {"yes": 1}, "mayor": {"c2": 1}, "board": {"x": 1, "z": 1}, "prio": {"p": 2, "q": 1}, "pb": {"lib": 1, "trees": 1}},
    {"ref": {"abstain": 1}, "mayor": {"c4": 1}, "board": {}, "prio": {}, "pb": {"trees": 1}},
]  # fmt: skip

SECRET = 0x5EC12E70F1A7E20B
TRUSTEE_COMMITMENTS = [base_mul(k) for k in (101, 202, 303, 404)]


@pytest.fixture(autouse=True, scope="module")
def _native_backend() -> Iterator[None]:
    """libsecp256k1 for speed; the encodings (all that crosses the language boundary) are identical."""
    with group.use_backend("native"):
        yield


@pytest.fixture(scope="module")
def ctx() -> B.ElectionContext:
    manifest = Manifest.from_json(MANIFEST_JSON)
    return B.ElectionContext.build(manifest, base_mul(SECRET), 3, 2, TRUSTEE_COMMITMENTS)


@pytest.fixture(scope="module")
def context_json(ctx: B.ElectionContext) -> dict[str, Any]:
    return {
        "manifest": MANIFEST_JSON,
        "joint_key": ctx.joint_key.hex(),
        "trustees": 3,
        "threshold": 2,
        "trustee_commitments": [c.hex() for c in TRUSTEE_COMMITMENTS],
        "extended_hash": ctx.extended_hash.hex(),  # JavaScript recomputes H_E and must agree
    }


def node_bin() -> str:
    found = shutil.which("node") or ("/usr/bin/node" if Path("/usr/bin/node").exists() else None)
    assert found, "Node.js is required for the JavaScript interop tests (node not found)"
    return found


def run_js(requests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    proc = subprocess.run(
        [node_bin(), str(INTEROP)],
        input=json.dumps(requests),
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    replies = json.loads(proc.stdout)
    assert len(replies) == len(requests)
    return replies


def flip(hex_text: str, bit: int) -> str:
    value = bytearray(bytes.fromhex(hex_text))
    value[len(value) - 1 - bit // 8] ^= 1 << (bit % 8)
    return value.hex()


def flipped_variants(ballot: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The same ballot with one bit flipped in each kind of element, across contests."""
    sites: dict[str, tuple[list[Any], int]] = {
        "selection v": (["contests", 0, "selections", 1, "proof", "branches", 0, "v"], 0),
        "selection c": (["contests", 1, "selections", 2, "proof", "branches", 1, "c"], 255),
        "selection a": (["contests", 2, "selections", 0, "proof", "branches", 1, "a"], 7),
        "selection b": (["contests", 3, "selections", 1, "proof", "branches", 2, "b"], 100),
        "score v (high bit)": (["contests", 3, "selections", 0, "proof", "branches", 2, "v"], 255),
        "ciphertext alpha": (["contests", 1, "selections", 0, "ciphertext", "alpha"], 1),
        "ciphertext beta": (["contests", 4, "selections", 1, "ciphertext", "beta"], 200),
        "limit v": (["contests", 4, "limit_proof", "branches", 3, "v"], 17),
        "limit c": (["contests", 2, "limit_proof", "branches", 0, "c"], 64),
        "code": (["code"], 5),
        "context hash": (["context_hash"], 250),
    }
    out = {}
    for name, (path, bit) in sites.items():
        bad = copy.deepcopy(ballot)
        node = bad
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = flip(node[path[-1]], bit)
        out[name] = bad
    bad = copy.deepcopy(ballot)
    bad["ballot_id"] = bad["ballot_id"] + "x"
    out["ballot id"] = bad
    return out


def python_rejects(ctx: B.ElectionContext, ballot_json: dict[str, Any]) -> bool:
    try:
        ballot = B.decode_ballot(ballot_json)
    except CryptoError:
        return True
    try:
        B.verify_ballot(ctx, ballot)
    except CryptoError:
        batch_bad = B.verify_ballots(ctx, [ballot])
        assert [ref for ref, _ in batch_bad] == [ballot.ballot_id]  # batch path agrees
        return True
    return False


def test_python_ballots_verify_in_javascript_and_flipped_bits_are_rejected(
    ctx: B.ElectionContext, context_json: dict[str, Any]
) -> None:
    ballots = [B.encrypt_ballot(ctx, f"py-{i}", c).to_json() for i, c in enumerate(CHOICES)]
    variants = flipped_variants(ballots[0])
    requests = [{"op": "verify", "context": context_json, "ballot": b} for b in ballots]
    requests += [{"op": "verify", "context": context_json, "ballot": b} for b in variants.values()]
    replies = run_js(requests)
    assert [r["ok"] for r in replies[:2]] == [True, True], replies[:2]
    for name, reply in zip(variants, replies[2:], strict=True):
        assert reply["ok"] is False, name
        assert reply["error"] in {"EncodingError", "ProofError", "BallotError"}, reply
        assert python_rejects(ctx, variants[name]), name  # and Python agrees


def test_javascript_ballots_verify_in_python_and_flipped_bits_are_rejected(
    ctx: B.ElectionContext, context_json: dict[str, Any]
) -> None:
    requests = [
        {"op": "encrypt", "context": context_json, "ballot_id": f"js-{i}", "choices": c}
        for i, c in enumerate(CHOICES)
    ]
    replies = run_js(requests)
    assert replies[0]["seed"] != replies[1]["seed"]  # fresh randomness per ballot
    parsed = [B.decode_ballot(r["ballot"]) for r in replies]
    for reply, ballot in zip(replies, parsed, strict=True):
        B.verify_ballot(ctx, ballot)
        assert ballot.tracking_code == reply["tracking_code"]
        assert ballot.to_json() == reply["ballot"]
    assert B.verify_ballots(ctx, parsed) == []
    for name, bad in flipped_variants(replies[0]["ballot"]).items():
        assert python_rejects(ctx, bad), name
    # The seed the browser keeps reproduces its ballot in Python: nothing else was random.
    again = B.encrypt_ballot(ctx, "js-0", CHOICES[0], bytes.fromhex(replies[0]["seed"]))
    assert again.to_json() == replies[0]["ballot"]


def test_same_seed_gives_the_same_bytes_in_both_languages(
    ctx: B.ElectionContext, context_json: dict[str, Any]
) -> None:
    seeds = ["00" * 32, "5a" * 32, "ff" * 32]
    requests = [
        {
            "op": "encrypt",
            "context": context_json,
            "ballot_id": f"same-{i}",
            "choices": CHOICES[i % 2],
            "seed": s,
        }
        for i, s in enumerate(seeds)
    ]
    for i, (seed, reply) in enumerate(zip(seeds, run_js(requests), strict=True)):
        expected = B.encrypt_ballot(ctx, f"same-{i}", CHOICES[i % 2], bytes.fromhex(seed))
        assert reply["ballot"] == expected.to_json()
        assert reply["tracking_code"] == expected.tracking_code


def test_challenged_ballots_cross_verify_and_a_lying_device_is_caught(
    ctx: B.ElectionContext, context_json: dict[str, Any]
) -> None:
    seed = bytes.fromhex("42" * 32)
    py_ballot = B.encrypt_ballot(ctx, "audit-py", CHOICES[0], seed)
    honest = B.challenge_ballot(py_ballot, seed, CHOICES[0]).to_json()
    lying = {**honest, "choices": {**CHOICES[0], "mayor": {"c1": 1}}}
    js_made = run_js(
        [{"op": "encrypt", "context": context_json, "ballot_id": "audit-js", "choices": CHOICES[1]}]
    )[0]
    replies = run_js(
        [
            {"op": "verify_challenged", "context": context_json, "challenged": honest},
            {"op": "verify_challenged", "context": context_json, "challenged": lying},
            {"op": "challenge", "context": context_json, "ballot": js_made["ballot"], "seed": js_made["seed"], "choices": CHOICES[1]},
        ]
    )  # fmt: skip
    assert replies[0] == {"ok": True}
    assert replies[1]["ok"] is False and replies[1]["error"] == "BallotError"
    js_challenged = B.ChallengedBallot.from_json(replies[2]["challenged"])
    B.verify_challenged_ballot(ctx, js_challenged)
    with pytest.raises(CryptoError):
        B.verify_challenged_ballot(
            ctx, B.challenge_ballot(js_challenged.ballot, js_challenged.seed, CHOICES[0])
        )
    with pytest.raises(CryptoError):
        B.verify_challenged_ballot(ctx, B.ChallengedBallot.from_json(lying))


def test_javascript_refuses_a_context_whose_hash_does_not_match(
    context_json: dict[str, Any],
) -> None:
    wrong = {**context_json, "threshold": 3}  # H_B changes, so the published H_E no longer matches
    proc = subprocess.run(
        [node_bin(), str(INTEROP)],
        input=json.dumps([{"op": "verify", "context": wrong, "ballot": {}}]),
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 2
    assert "extended_hash does not match" in proc.stderr
