"""Cross-language tests: ballots made in JavaScript verify in Python and vice versa.

The browser twin (voting/static/voting/js) runs under Node through tests/js/tools/interop.mjs;
both sides must agree byte for byte (same seed, same ballot), accept each other's ballots and
challenged ballots, and reject the same flipped bits.
"""

from __future__ import annotations

import copy
import hashlib
import json
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import rfc8785

from civic_votecrypto import ballot as B
from civic_votecrypto import group
from civic_votecrypto.errors import CryptoError
from civic_votecrypto.group import base_mul
from civic_votecrypto.hashing import manifest_hash, parameter_hash
from civic_votecrypto.manifest import Manifest, is_identifier, is_title

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


# -- rules pinned after cross-checking (issue 4) ----------------------------------------------
def _rule_digest(rule: Callable[[str], bool]) -> str:
    flags = bytes(1 if rule(chr(cp)) else 0 for cp in range(0x110000))
    return hashlib.sha256(flags).hexdigest()


def test_text_rules_agree_on_every_code_point() -> None:
    """Identifiers and titles: same verdict in Python and Node for all 1,114,112 code points
    (a 'printable' rule disagreed on 15,097 of them: Unicode 14 versus 17)."""
    (js,) = run_js([{"op": "text_rules"}])
    assert js == {"identifier": _rule_digest(is_identifier), "title": _rule_digest(is_title)}


def _manifest_text_in_python(text: str) -> dict[str, Any]:
    try:
        manifest = Manifest.from_json(json.loads(text))
    except CryptoError as exc:
        return {"ok": False, "error": type(exc).__name__}
    canonical = manifest.canonical_bytes()
    return {
        "ok": True,
        "canonical": canonical.decode(),
        "manifest_hash": manifest_hash(parameter_hash(), canonical).hex(),
    }


def test_manifest_hash_of_non_normalised_text_agrees() -> None:
    """H_M is over the normalised manifest (§6): whitespace, key order, escapes and the
    `allow_blank`/`cost` normalisation of the published text do not matter, in both languages."""
    spelled = copy.deepcopy(MANIFEST_JSON)
    spelled["title"] = "Interop \u00e9lection \U0001f333 \u2028"
    compact = json.dumps(spelled, separators=(",", ":"), ensure_ascii=False)
    pretty = json.dumps(
        {k: spelled[k] for k in reversed(list(spelled))}, indent=4, ensure_ascii=True
    )
    shuffled = json.dumps(
        {**spelled, "contests": [dict(reversed(list(c.items()))) for c in spelled["contests"]]},
        indent="\t",
    ).replace(": ", " :  ")
    texts = [compact, pretty, shuffled]
    js = run_js([{"op": "manifest_text", "text": t} for t in texts])
    py = [_manifest_text_in_python(t) for t in texts]
    for j, p in zip(js, py, strict=True):
        assert j == {**p, "ok": True}, (j, p)
    assert len({r["manifest_hash"] for r in js}) == 1
    assert js[0]["canonical"] == rfc8785.dumps(spelled).decode()


def test_integers_written_with_a_fraction_or_exponent() -> None:
    """Python refuses `2.0` and `1e1` where an integer is due; JavaScript cannot tell them from
    `2` and `10` after JSON.parse, so it accepts them, but re-encodes them canonically, so the
    hashed bytes are those of the integer form (§2.3)."""
    plain = json.dumps(MANIFEST_JSON)
    fraction = plain.replace('"max_score": 2', '"max_score": 2.0')
    exponent = plain.replace('"budget": 5', '"budget": 5e0')
    assert fraction != plain and exponent != plain
    js = run_js([{"op": "manifest_text", "text": t} for t in (plain, fraction, exponent)])
    assert js[0]["ok"] and js[1] == js[0] and js[2] == js[0]
    assert _manifest_text_in_python(plain) == js[0]
    assert _manifest_text_in_python(fraction) == {"ok": False, "error": "BallotError"}
    assert _manifest_text_in_python(exponent) == {"ok": False, "error": "BallotError"}


def _context_in_python(doc: Any) -> dict[str, Any]:
    try:
        return {"ok": True, "context": B.ElectionContext.from_json(doc).to_json()}
    except CryptoError as exc:
        return {"ok": False, "error": type(exc).__name__}


def test_context_message_agrees(ctx: B.ElectionContext, context_json: dict[str, Any]) -> None:
    """The booth's context message (§7.6): same parse, same re-encoding, same error classes."""
    assert ctx.to_json() == {
        **context_json,
        "manifest": Manifest.from_json(MANIFEST_JSON).to_json(),
    }
    spaced = "00 " + "11" * 30 + " "
    cases = [
        context_json,
        ctx.to_json(),
        {k: v for k, v in context_json.items() if k != "extended_hash"},
        {k: v for k, v in context_json.items() if k != "trustee_commitments"},
        {**context_json, "extra": 1},
        {**context_json, "threshold": 4},
        {**context_json, "trustees": 0},
        {**context_json, "threshold": "2"},
        {**context_json, "joint_key": context_json["joint_key"].upper()},
        {**context_json, "trustee_commitments": "02"},
        {**context_json, "extended_hash": spaced},
        {**context_json, "extended_hash": "00" * 32},
        {**context_json, "manifest": {**MANIFEST_JSON, "title": "bad\u0007"}},
        {**context_json, "manifest": {**MANIFEST_JSON, "election_id": "with space"}},
        [context_json],
        None,
    ]
    js = run_js([{"op": "context", "context": c} for c in cases])
    for case, j in zip(cases, js, strict=True):
        p = _context_in_python(case)
        assert {k: v for k, v in j.items() if k != "message"} == p, (case, j)
    assert [j["ok"] for j in js[:4]] == [True, True, True, False]


def _python_report(receipt: Any) -> list[tuple[str, bool, str]]:
    return [
        (name, ok, detail if ok else detail.split(":")[0])
        for name, ok, detail in B.verify_receipt(receipt)
    ]


def _js_report(reply: dict[str, Any]) -> list[tuple[str, bool, str]]:
    assert reply["ok"] == (bool(reply["checks"]) and all(c["ok"] for c in reply["checks"]))
    return [
        (c["name"], c["ok"], c["detail"] if c["ok"] else c["detail"].split(":")[0])
        for c in reply["checks"]
    ]


def test_receipt_verification_agrees(ctx: B.ElectionContext, context_json: dict[str, Any]) -> None:
    """verify_receipt (Python) and verifyReceipt (JavaScript): same checks, verdicts, details."""
    ballot = B.encrypt_ballot(ctx, "receipt-x", CHOICES[0], bytes(32))
    good = {
        "context": context_json,
        "ballot": ballot.to_json(),
        "tracking_code": ballot.tracking_code,
    }
    variants = flipped_variants(good["ballot"])
    receipts: list[Any] = [good, {k: v for k, v in good.items() if k != "tracking_code"}]
    receipts += [{**good, "ballot": bad} for bad in variants.values()]
    receipts += [
        {**good, "tracking_code": "AAAA-AAAA-AAAA-AAAA-AAAA-AAAA"},
        {**good, "tracking_code": 5},
        {**good, "context": {**context_json, "threshold": 3, "extended_hash": None}},
        {**good, "context": {k: v for k, v in context_json.items() if k != "extended_hash"} | {"threshold": 3}},
        {**good, "context": {**context_json, "manifest": {}}},
        {**good, "ballot": {**good["ballot"], "context_hash": "00 " + "11" * 30 + " "}},
        {**good, "manifest": MANIFEST_JSON},
        {"context": context_json},
        None,
        [],
    ]  # fmt: skip
    invalid_end = len(receipts)
    # The extended receipt (protocol §7.7): the ballot box's answer binds code and SHA-256.
    cast = {
        "election": "e1", "tracking_code": ballot.tracking_code, "log": "election-1",
        "ballot_sha256": B.ballot_sha256(good["ballot"]), "status": "counting",
        "received_at": "2026-12-03T12:00:00+00:00", "position": {"index": 4},
    }  # fmt: skip
    receipts += [
        {**good, "cast": cast},
        {**good, "cast": {**cast, "position": None}},
        {**good, "cast": {**cast, "ballot_sha256": "00" * 32}},
        {**good, "cast": {**cast, "tracking_code": "AAAA-AAAA-AAAA-AAAA-AAAA-AAAA"}},
        {**good, "cast": "yes"},
        {**good, "ledger_receipt": {}},
        {**good, "cast": cast, "extra": 1},
    ]
    replies = run_js([{"op": "receipt", "receipt": r} for r in receipts])
    for receipt, reply in zip(receipts, replies, strict=True):
        assert _js_report(reply) == _python_report(receipt), receipt
    assert replies[0]["ok"] is True and replies[0]["trackingCode"] == ballot.tracking_code
    with_cast = receipts.index({**good, "cast": cast})
    assert replies[with_cast]["ok"] is True
    assert [c["name"] for c in replies[with_cast]["checks"]][-1] == "cast"
    assert all(reply["ok"] is False for reply in replies[2:invalid_end])
    assert [reply["ok"] for reply in replies[invalid_end:]] == [
        True,
        True,
        False,
        False,
        False,
        False,
        False,
    ]
