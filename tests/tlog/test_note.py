"""C2SP signed-note / tlog-checkpoint / tlog-cosignature against the public examples."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from civic_tlog import note
from tests.conftest import conformance_root

C2SP = conformance_root() / "c2sp_tlog"


def _read(rel: str) -> str:
    return (C2SP / rel).read_text(encoding="utf-8")


def _flip_base64_payload(line: str, byte: int) -> str:
    prefix, _, b64 = line.rpartition(" ")
    raw = bytearray(base64.b64decode(b64))
    raw[byte] ^= 0x01
    return f"{prefix} {base64.b64encode(bytes(raw)).decode()}"


# --- signed-note examples --------------------------------------------------------------------


def test_signed_note_spec_example_verifies() -> None:
    text, sigs = note.open_note(
        _read("signed-note/example.com_foo.note"), [_read("signed-note/example.com_foo.vkey")]
    )
    assert text == "This is an example message.\n"
    assert [(s.name, s.key_id.hex()) for s in sigs] == [("example.com/foo", "530d903a")]


def test_verifier_key_round_trips_and_key_id_is_checked() -> None:
    vkey = _read("signed-note/example.com_foo.vkey").strip()
    parsed = note.parse_verifier_key(vkey)
    assert str(parsed) == vkey
    assert parsed.key_id == note.key_id(parsed.name, parsed.alg, parsed.public_key)
    name, kid, material = vkey.split("+", 2)
    with pytest.raises(note.NoteError, match="does not match"):
        note.parse_verifier_key(f"{name}+{int(kid, 16) ^ 1:08x}+{material}")
    with pytest.raises(note.NoteError, match="does not match"):
        note.parse_verifier_key(f"example.com/bar+{kid}+{material}")
    for bad in ("", "name+530d903a", "na me+530d903a+" + material, "n+XYZ+" + material):
        with pytest.raises(note.NoteError):
            note.parse_verifier_key(bad)


def test_tampered_note_is_rejected() -> None:
    vkey = _read("signed-note/example.com_foo.vkey")
    original = _read("signed-note/example.com_foo.note")
    with pytest.raises(note.NoteError, match="invalid signature"):
        note.open_note(original.replace("example message", "exemple message"), [vkey])
    sig_line = original.splitlines()[-1]
    for byte in (5, 40, 67):  # inside the Ed25519 signature (after the 4-byte key id)
        forged = original.replace(sig_line, _flip_base64_payload(sig_line, byte))
        with pytest.raises(note.NoteError, match="invalid signature"):
            note.open_note(forged, [vkey])
    # A flipped key id makes the line unknown: the note then has no known signature.
    forged = original.replace(sig_line, _flip_base64_payload(sig_line, 0))
    with pytest.raises(note.NoteError, match="no signature from a known key"):
        note.open_note(forged, [vkey])


def test_note_with_blank_lines_in_text_parses_and_needs_a_known_key() -> None:
    quasimodo = _read("signed-note/quasimodo_example.note")
    text, sigs = note.split_note(quasimodo)
    assert text.endswith("ed è subito sera.\n") and "\n\n" in text
    assert [s.name for s in sigs] == ["quasimodo.example/salvatore"]
    with pytest.raises(note.NoteError, match="no signature from a known key"):
        note.open_note(quasimodo, [_read("signed-note/example.com_foo.vkey")])


def test_transparency_dev_signer_keys_derive_their_verifier_keys() -> None:
    signers = _read("transparency-dev-formats/note_test_PRIVATE_test_only.skeys").split()
    verifiers = _read("transparency-dev-formats/note_test.vkeys").split()
    assert len(signers) == len(verifiers) == 4
    for skey, vkey in zip(signers, verifiers, strict=True):
        signer = note.parse_signer_key(skey)
        assert str(signer) == skey
        assert str(signer.verifier) == vkey
        signed = note.sign_note("hello\n", signer)
        assert note.open_note(signed, [vkey])[0] == "hello\n"


def test_sum_golang_checkpoint_and_extra_signature_lines() -> None:
    checkpoint_note = _read("transparency-dev-formats/sum.golang.org_checkpoint.note")
    log_key = _read("transparency-dev-formats/sum.golang.org.vkey")
    checkpoint, body = note.open_checkpoint(checkpoint_note, log_key, "go.sum database tree")
    assert (checkpoint.origin, checkpoint.size) == ("go.sum database tree", 6476701)
    assert body == checkpoint.body

    extra_lines = _read("transparency-dev-formats/extra_signature_lines.txt").splitlines()
    extra_keys = _read("transparency-dev-formats/extra_verifier_keys.vkeys").split()
    combined = note.add_signature_lines(checkpoint_note, extra_lines)
    _, sigs = note.open_note(combined, [log_key, *extra_keys])
    # random1/random2 reuse the witness key id under unknown names: ignored, not accepted.
    assert sorted(s.name for s in sigs) == ["bananas", "monkeys", "sum.golang.org", "witness"]
    with pytest.raises(note.NoteError, match="origin"):
        note.open_checkpoint(checkpoint_note, log_key, "example.com/other")


def test_duplicate_and_malformed_signature_blocks_are_rejected() -> None:
    original = _read("signed-note/example.com_foo.note")
    vkey = _read("signed-note/example.com_foo.vkey")
    line = original.splitlines()[-1]
    with pytest.raises(note.NoteError, match="duplicate"):
        note.open_note(original + line + "\n", [vkey])
    for bad in (
        original.rstrip("\n"),  # no final newline
        original.replace("\u2014 ", "- "),  # not an em dash
        original.replace("\n\n", "\n"),  # no blank line before signatures
        original.replace("message.", "message.\x07"),  # control character in the text
        original.replace(line, line + "=="),  # non-canonical base64
    ):
        with pytest.raises(note.NoteError):
            note.open_note(bad, [vkey])


# --- checkpoints -----------------------------------------------------------------------------


def test_tlog_checkpoint_example_parses() -> None:
    text, sigs = note.split_note(_read("tlog-checkpoint/behind-the-sofa.checkpoint"))
    checkpoint = note.parse_checkpoint(text)
    assert checkpoint.origin == "example.com/behind-the-sofa"
    assert checkpoint.size == 20852163
    assert (
        base64.b64encode(checkpoint.root_hash).decode()
        == "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I="
    )
    assert checkpoint.body == text
    assert sigs[0].name == "example.com/behind-the-sofa"


@pytest.mark.parametrize(
    "body",
    [
        "origin\n5\n",  # no root
        "\n5\n" + base64.b64encode(bytes(32)).decode() + "\n",  # empty origin
        "o\n05\n" + base64.b64encode(bytes(32)).decode() + "\n",  # leading zero
        "o\n+5\n" + base64.b64encode(bytes(32)).decode() + "\n",
        "o\n18446744073709551616\n" + base64.b64encode(bytes(32)).decode() + "\n",  # 2^64
        "o\n5\n" + base64.b64encode(bytes(31)).decode() + "\n",  # short root
        "o\n5\n" + base64.b64encode(bytes(32)).decode(),  # no final newline
        "o\n5\n" + base64.b64encode(bytes(32)).decode() + "\n\n",  # empty extension line
    ],
)
def test_malformed_checkpoints_are_rejected(body: str) -> None:
    with pytest.raises(note.NoteError):
        note.parse_checkpoint(body)


def test_checkpoint_format_round_trip_with_extensions() -> None:
    root = bytes(range(32))
    body = note.format_checkpoint("civic.example/ledger/city", 42, root, ["ext one"])
    assert body == f"civic.example/ledger/city\n42\n{base64.b64encode(root).decode()}\next one\n"
    assert note.parse_checkpoint(body) == note.Checkpoint(
        "civic.example/ledger/city", 42, root, ("ext one",)
    )


# --- cosignatures ----------------------------------------------------------------------------


def test_cosignature_spec_example_layout() -> None:
    cosigned = _read("tlog-cosignature/behind-the-sofa_cosigned.checkpoint")
    text, sigs = note.split_note(cosigned)
    assert [s.name for s in sigs] == ["example.com/behind-the-sofa", "witness.example.com/w1"]
    sig, timestamp = note.parse_cosignature(sigs[1].line)
    assert timestamp == 1679315147
    expected = _read("tlog-cosignature/cosignature_v1_signed_message_example.txt")
    assert note.cosignature_message(text, timestamp) == expected.encode()


def test_witness_protocol_examples_hold_cosignature_lines() -> None:
    lines = _read("tlog-witness/add-checkpoint_response_example.txt").splitlines()
    sigs = [note.parse_signature_line(line) for line in lines]
    assert {s.name for s in sigs} == {"witness.example/w1", "witness.example/w2"}
    assert all(len(s.payload) == 8 + 64 for s in sigs)  # timestamp + Ed25519 signature
    # The example payloads are illustrative bytes: two carry a "timestamp" above 2^63-1,
    # which tlog-cosignature forbids, so a strict parser must refuse exactly those.
    for sig in sigs:
        too_big = int.from_bytes(sig.payload[:8], "big") > 2**63 - 1
        if too_big:
            with pytest.raises(note.NoteError, match="2\\^63"):
                note.parse_cosignature(sig.line)
        else:
            assert note.parse_cosignature(sig.line)[1] == int.from_bytes(sig.payload[:8], "big")
    request = _read("tlog-witness/add-checkpoint_request_example.txt")
    checkpoint_part = request.split("\n\n", 1)[1]
    text, sigs = note.split_note(checkpoint_part)
    assert note.parse_checkpoint(text).size == 20852163 and len(sigs) == 2


def test_tlog_proof_example_embeds_a_valid_checkpoint_body() -> None:
    proof = _read("tlog-proof/example_elided.tlog-proof")
    header, rest = proof.split("\n\n", 1)
    assert header.splitlines()[0] == "c2sp.org/tlog-proof@v1"
    body = rest.split("\n\n", 1)[0] + "\n"
    assert note.parse_checkpoint(body).size == 109482
    # The example elides its signatures ("[...]"): a strict parser must refuse them.
    with pytest.raises(note.NoteError):
        note.split_note(rest)


def test_cosign_and_verify_round_trip_and_tampering() -> None:
    skey, vkey = note.generate_cosigner("observer.example/one")
    assert note.parse_verifier_key(vkey).alg == note.ALG_COSIGNATURE_V1
    _, other_vkey = note.generate_cosigner("observer.example/one")
    log_skey, log_vkey = note.generate_signer("civic.example/log")
    body = note.format_checkpoint("civic.example/log", 7, bytes(32))
    line = note.cosign(body, skey, 1_700_000_000)
    assert note.verify_cosignature(body, line, vkey) == 1_700_000_000

    signed = note.add_signature_lines(note.sign_note(body, log_skey), [line])
    _, sigs = note.open_note(signed, [log_vkey, vkey])
    assert [(s.alg, s.timestamp) for s in sigs] == [(1, None), (4, 1_700_000_000)]

    other_body = note.format_checkpoint("civic.example/log", 8, bytes(32))
    with pytest.raises(note.NoteError):
        note.verify_cosignature(other_body, line, vkey)
    with pytest.raises(note.NoteError):
        note.verify_cosignature(body, line, other_vkey)  # same name, different key
    for byte in (4, 11, 12, 50, 75):  # timestamp bytes and signature bytes
        with pytest.raises(note.NoteError):
            note.verify_cosignature(body, _flip_base64_payload(line, byte), vkey)
    with pytest.raises(note.NoteError):
        note.verify_cosignature(body, line, log_vkey)  # a log key is not a cosigner key
    with pytest.raises(note.NoteError):
        note.cosign(body, log_skey, 1)  # log keys do not cosign
    with pytest.raises(note.NoteError):
        note.sign_note(body, skey)  # cosigner keys do not sign plain notes


def test_files_exist_for_every_listed_example() -> None:
    expected = {
        "signed-note": 3,
        "tlog-checkpoint": 1,
        "tlog-cosignature": 2,
        "tlog-proof": 1,
        "tlog-witness": 2,
        "transparency-dev-formats": 6,
    }
    for folder, count in expected.items():
        assert len([p for p in Path(C2SP / folder).iterdir() if p.is_file()]) == count, folder
