"""Deterministic test vectors for every operation and proof (``tests/vectors/*.json``).

Everything is derived from fixed seeds, so running the generator twice gives identical bytes;
the Python tests check the committed files are reproduced exactly and verify, and the
JavaScript twin must reproduce them byte for byte. Usage::

    python -m tests.vectors.generators.core --out tests/vectors
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from civic_votecrypto import ballot as ballot_mod
from civic_votecrypto import elgamal, group, hashing, proofs
from civic_votecrypto.errors import CryptoError
from civic_votecrypto.group import G, N, P, Point, scalar_hex
from civic_votecrypto.hashing import DeterministicScalars, Tag
from civic_votecrypto.manifest import Manifest

FORMAT = "civic-vectors-v1"

SAMPLE_MANIFEST: dict[str, Any] = {
    "election_id": "vector-election",
    "title": "Vector election",
    "contests": [
        {"id": "park", "type": "yes_no_abstain", "title": "New park?", "options": [
            {"id": "yes", "title": "Yes"}, {"id": "no", "title": "No"}, {"id": "abstain", "title": "Abstain"}]},
        {"id": "mayor", "type": "one_of_n", "title": "Mayor", "allow_blank": False, "options": [
            {"id": f"c{i}", "title": f"Candidate {i}"} for i in range(1, 6)]},
        {"id": "council", "type": "approval", "title": "Council", "min_selections": 0, "max_selections": 2,
         "options": [{"id": "a", "title": "A"}, {"id": "b", "title": "B"}, {"id": "c", "title": "C"}]},
        {"id": "priorities", "type": "score", "title": "Priorities", "max_score": 3, "max_total": 4,
         "options": [{"id": "roads", "title": "Roads"}, {"id": "parks", "title": "Parks"}]},
        {"id": "budget", "type": "budget", "title": "Participatory budget", "budget": 10, "options": [
            {"id": "library", "title": "Library", "cost": 6}, {"id": "bikes", "title": "Bike lanes", "cost": 3},
            {"id": "trees", "title": "Trees", "cost": 2}]},
    ],
}  # fmt: skip

BALLOT_CASES: list[tuple[str, str, dict[str, dict[str, int]]]] = [
    ("ballot-0001", "01" * 32, {"park": {"yes": 1}, "mayor": {"c3": 1}, "council": {"a": 1, "c": 1},
                                "priorities": {"roads": 3, "parks": 1}, "budget": {"library": 1, "trees": 1}}),
    ("ballot-0002", "02" * 32, {"park": {"abstain": 1}, "mayor": {"c1": 1}, "council": {},
                                "priorities": {}, "budget": {"bikes": 1, "trees": 1}}),
]  # fmt: skip


def _seed_rng(seed: str) -> DeterministicScalars:
    return DeterministicScalars(seed.encode(), "vectors")


def _rng_json(seed: str) -> dict[str, str]:
    return {"seed_utf8": seed, "label": "vectors"}


def _try(fn: Callable[[], object]) -> bool:
    try:
        fn()
    except CryptoError:
        return False
    return True


def group_vectors() -> dict[str, Any]:
    rng = _seed_rng("group")
    scalars = [1, 2, 3, 7, 255, 256, N - 1, *(rng() for _ in range(5))]
    mul = [{"k": scalar_hex(k), "kG": group.base_mul(k).hex()} for k in scalars]
    adds = []
    for _ in range(3):
        a, b = group.base_mul(rng()), group.base_mul(rng())
        adds.append({"a": a.hex(), "b": b.hex(), "sum": (a + b).hex(), "difference": (a - b).hex()})
    base = group.base_mul(rng())
    ks = [rng() for _ in range(4)]
    points = [group.base_mul(rng()) for _ in range(4)]
    x_not_on_curve = next(x for x in range(1, 100) if group.get_backend().lift_x(x, 0) is None)
    invalid_points = {
        "short": base.hex()[:-2],
        "long": base.hex() + "00",
        "prefix_00": "00" + base.hex()[2:],
        "prefix_04": "04" + base.hex()[2:],
        "prefix_05": "05" + base.hex()[2:],
        "infinity_zeros": "00" * 33,
        "x_equals_p": "02" + P.to_bytes(32, "big").hex(),
        "x_above_p": "03" + (P + 1).to_bytes(32, "big").hex(),
        "x_not_on_curve": "02" + x_not_on_curve.to_bytes(32, "big").hex(),
        "uppercase_hex": base.hex().upper(),
        "not_hex": "zz" + base.hex()[2:],
    }
    invalid_scalars = {
        "equals_n": N.to_bytes(32, "big").hex(),
        "all_ones": "ff" * 32,
        "short": "01" * 31,
        "long": "00" + "01" * 32,
        "uppercase_hex": scalar_hex(0xABCDEF).upper(),
    }
    for name, text in invalid_points.items():
        assert not _try(lambda text=text: Point.from_hex(text)), name
    for name, text in invalid_scalars.items():
        assert not _try(lambda text=text: group.scalar_from_hex(text)), name
    return {
        "description": "secp256k1 group operations and strict encodings (docs/protocol.md §2)",
        "generator": G.hex(),
        "order_n": format(N, "064x"),
        "field_p": format(P, "064x"),
        "base_mul": mul,
        "add": adds,
        "mul": [
            {"point": base.hex(), "k": scalar_hex(k), "product": group.mul(base, k).hex()}
            for k in ks
        ],
        "msm": {
            "scalars": [scalar_hex(k) for k in ks],
            "points": [p.hex() for p in points],
            "result": group.msm(ks, points).hex(),
        },
        "valid_zero_scalar": scalar_hex(0),
        "invalid_points": invalid_points,
        "invalid_scalars": invalid_scalars,
    }


def hashing_vectors() -> dict[str, Any]:
    manifest = Manifest.from_json(SAMPLE_MANIFEST)
    h_p = hashing.parameter_hash()
    h_m = hashing.manifest_hash(h_p, manifest.canonical_bytes())
    h_b = hashing.election_base_hash(h_p, h_m, 3, 2)
    key = group.base_mul(_seed_rng("hashing")())
    commitments = [group.base_mul(k) for k in (11, 12, 13)]
    h_e = hashing.extended_base_hash(h_b, key, commitments)
    challenge_fields = ["", "00", "0102030405"]
    stream = DeterministicScalars(b"stream-seed", "label")
    return {
        "description": "hash chain, H, challenges and derived scalars (docs/protocol.md §3)",
        "version_key": hashing.VERSION_KEY.hex(),
        "challenge_dst_utf8": hashing.CHALLENGE_DST.decode(),
        "derive_dst_utf8": hashing.DERIVE_DST.decode(),
        "tags": {t.name: t.value for t in Tag},
        "parameter_hash": h_p.hex(),
        "manifest_canonical_utf8": manifest.canonical_bytes().decode(),
        "manifest_hash": h_m.hex(),
        "election_base": {"trustees": 3, "threshold": 2, "hash": h_b.hex()},
        "extended_base": {
            "joint_key": key.hex(),
            "trustee_commitments": [c.hex() for c in commitments],
            "hash": h_e.hex(),
        },
        "H": [
            {
                "key": h_p.hex(),
                "tag": 0x12,
                "data": d,
                "hash": hashing.H(h_p, 0x12, bytes.fromhex(d)).hex(),
            }
            for d in challenge_fields
        ],
        "challenge": [
            {
                "context": h_e.hex(),
                "tag": int(Tag.RANGE_CHALLENGE),
                "fields": d,
                "scalar": scalar_hex(hashing.challenge(h_e, Tag.RANGE_CHALLENGE, bytes.fromhex(d))),
            }
            for d in challenge_fields
        ],
        "deterministic_scalars": {
            "seed_utf8": "stream-seed",
            "label": "label",
            "first": [scalar_hex(stream()) for _ in range(3)],
        },
    }


def elgamal_vectors() -> dict[str, Any]:
    rng = _seed_rng("elgamal")
    secret = rng()
    key = group.base_mul(secret)
    cases = []
    cts = []
    for m in (0, 1, 2, 5, 1000):
        r = rng()
        ct = elgamal.encrypt(key, m, r)
        cts.append(ct)
        cases.append({"message": m, "nonce": scalar_hex(r), "ciphertext": ct.to_json()})
    weights = [1, 2, 0, 3, 1]
    agg = elgamal.aggregate(cts, weights)
    assert elgamal.decrypt_to_point(secret, agg) == group.base_mul(0 + 2 + 0 + 15 + 1000)
    return {
        "description": "exponential ElGamal Enc(m; r) = (r·G, r·K + m·G) (docs/protocol.md §4)",
        "secret_key": scalar_hex(secret),
        "public_key": key.hex(),
        "encryptions": cases,
        "aggregate_sum": elgamal.aggregate(cts).to_json(),
        "aggregate_weighted": {"weights": weights, "result": agg.to_json(), "plaintext": 1017},
    }


def flip_scalar_hex(text: str) -> str:
    """A hex scalar with its lowest bit flipped: the tampered response of an invalid vector."""
    return format(int(text, 16) ^ 1, "064x")


def proof_vectors() -> dict[str, Any]:
    rng = _seed_rng("proofs")
    context = hashing.H(hashing.VERSION_KEY, 0x7F, b"vector context")
    key = group.base_mul(rng())
    range_cases = []
    for value, lo, hi, tag, label in (
        (0, 0, 1, Tag.RANGE_CHALLENGE, b"selection"),
        (1, 0, 1, Tag.RANGE_CHALLENGE, b"selection"),
        (2, 0, 3, Tag.RANGE_CHALLENGE, b""),
        (4, 2, 6, Tag.LIMIT_CHALLENGE, b"limit"),
    ):
        seed = f"range-{value}-{lo}-{hi}"
        nonce = rng()
        ct = elgamal.encrypt(key, value, nonce)
        proof = proofs.prove_range(
            context, key, ct, value, nonce, lo, hi, tag=tag, label=label, rng=_seed_rng(seed)
        )
        proofs.verify_range(context, key, ct, proof, lo, hi, tag=tag, label=label)
        tampered = proof.to_json()
        tampered["branches"][0]["v"] = flip_scalar_hex(tampered["branches"][0]["v"])
        range_cases.append({
            "context": context.hex(), "public_key": key.hex(), "ciphertext": ct.to_json(),
            "value": value, "nonce": scalar_hex(nonce), "lo": lo, "hi": hi, "tag": int(tag),
            "label_hex": label.hex(), "rng": _rng_json(seed), "proof": proof.to_json(),
            "invalid_proofs": {"response_bit_flip": tampered},
        })  # fmt: skip
    secret = rng()
    schnorr = proofs.prove_schnorr(
        context, secret, label=b"trustee 1 coefficient 0", rng=_seed_rng("schnorr")
    )
    share = rng()
    alpha = group.base_mul(rng())
    equality = proofs.prove_equality(
        context, share, alpha, label=b"trustee 2", rng=_seed_rng("equality")
    )
    return {
        "description": "range, Schnorr and Chaum-Pedersen proofs (docs/protocol.md §5)",
        "range": range_cases,
        "schnorr": {
            "context": context.hex(), "secret": scalar_hex(secret), "public": group.base_mul(secret).hex(),
            "label_hex": b"trustee 1 coefficient 0".hex(), "rng": _rng_json("schnorr"), "proof": schnorr.to_json(),
        },
        "equality": {
            "context": context.hex(), "secret": scalar_hex(share), "base1": G.hex(),
            "public1": group.base_mul(share).hex(), "base2": alpha.hex(),
            "public2": group.mul(alpha, share).hex(), "label_hex": b"trustee 2".hex(),
            "rng": _rng_json("equality"), "proof": equality.to_json(),
        },
    }  # fmt: skip


def ballot_vectors() -> dict[str, Any]:
    manifest = Manifest.from_json(SAMPLE_MANIFEST)
    secret = _seed_rng("ballots")()
    key = group.base_mul(secret)
    ctx = ballot_mod.ElectionContext.build(manifest, key, trustees=1, threshold=1)
    cases = []
    for ballot_id, seed_hex, choices in BALLOT_CASES:
        enc = ballot_mod.encrypt_ballot(ctx, ballot_id, choices, bytes.fromhex(seed_hex))
        ballot_mod.verify_ballot(ctx, enc)
        cases.append({
            "ballot_id": ballot_id, "seed": seed_hex, "choices": choices,
            "selection_nonces": [
                [scalar_hex(ballot_mod.selection_nonce(ctx.extended_hash, bytes.fromhex(seed_hex), ballot_id, ci, oi))
                 for oi in range(len(c.options))]
                for ci, c in enumerate(manifest.contests)
            ],
            "contest_hashes": [ballot_mod.contest_hash(ctx.extended_hash, c).hex() for c in enc.contests],
            "ballot": enc.to_json(), "tracking_code": enc.tracking_code,
        })  # fmt: skip
    first = cases[0]
    challenged = {"ballot": first["ballot"], "seed": first["seed"], "choices": first["choices"]}
    lying = {**challenged, "choices": {**first["choices"], "park": {"no": 1}}}
    swapped = json.loads(json.dumps(first["ballot"]))
    mayor = swapped["contests"][1]["selections"]
    mayor[0]["ciphertext"], mayor[2]["ciphertext"] = mayor[2]["ciphertext"], mayor[0]["ciphertext"]
    return {
        "description": "full ballots for every question type, codes, Benaloh challenge (docs/protocol.md §6-7)",
        "manifest": SAMPLE_MANIFEST,
        "secret_key": scalar_hex(secret),
        "joint_key": key.hex(),
        "trustees": 1,
        "threshold": 1,
        "trustee_commitments": [],
        "parameter_hash": ctx.parameter_hash.hex(),
        "manifest_hash": ctx.manifest_hash.hex(),
        "base_hash": ctx.base_hash.hex(),
        "extended_hash": ctx.extended_hash.hex(),
        "ballots": cases,
        "challenged_valid": challenged,
        "challenged_lying_device": lying,
        "invalid_ballots": {"swapped_ciphertexts": swapped},
    }


def build_files(builders: Mapping[str, Callable[[], dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    """Run each builder (in order) with the py-ecc reference backend and stamp the format, so
    every vector family is computed, and labelled, the same way."""
    with group.use_backend("py-ecc"):
        files = {name: build() for name, build in builders.items()}
    for doc in files.values():
        doc["format"] = FORMAT
    return files


def build_vectors() -> dict[str, dict[str, Any]]:
    """All vector files, by file name (always computed with the py-ecc reference backend)."""
    return build_files({
        "group.json": group_vectors,
        "hashing.json": hashing_vectors,
        "elgamal.json": elgamal_vectors,
        "proofs.json": proof_vectors,
        "ballots.json": ballot_vectors,
    })  # fmt: skip


def render(doc: dict[str, Any]) -> str:
    """The committed text of a vector file (the JavaScript twin reproduces it byte for byte)."""
    return json.dumps(doc, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def generator_main(
    argv: list[str] | None,
    build: Callable[[], dict[str, dict[str, Any]]],
    *,
    description: str,
    what: str,
    prog: str | None = None,
) -> int:
    """The CLI of every vector generator: write the files, or with --check only compare them
    with what is committed (exit 1 naming the files that differ; nothing is created)."""
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("--out", type=Path, required=True, help="directory for the *.json files")
    parser.add_argument(
        "--check", action="store_true", help="exit 1 if files differ instead of writing"
    )
    args = parser.parse_args(argv)
    files = build()
    differing = []
    if not args.check:
        args.out.mkdir(parents=True, exist_ok=True)
    for name, doc in files.items():
        path = args.out / name
        text = render(doc)
        if args.check:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                differing.append(name)
        else:
            path.write_text(text, encoding="utf-8")
    if differing:
        print(f"{what} differ: {', '.join(differing)}", file=sys.stderr)
        return 1
    print(f"{'checked' if args.check else 'wrote'} {len(files)} files in {args.out}")
    return 0


def main(argv: list[str] | None = None) -> int:
    return generator_main(argv, build_vectors, description=__doc__.splitlines()[0], what="vectors")


if __name__ == "__main__":
    raise SystemExit(main())
