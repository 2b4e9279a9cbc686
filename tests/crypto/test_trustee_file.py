"""Trustee secret files: round trip, wrong passphrase, and any modified byte are rejected."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from civic_votecrypto.trustee_file import (
    CorruptTrusteeFileError,
    TrusteeFileError,
    WrongPassphraseError,
    decrypt_trustee_secret,
    encrypt_trustee_secret,
    read_trustee_file,
    write_trustee_file,
)

SECRET = {"share": "11" * 32, "communication_secret": "22" * 32, "index": 2}
PASS = "correct horse battery staple"
FAST = 14  # the smallest scrypt cost the reader accepts; keeps tests quick


@pytest.fixture(scope="module")
def document() -> dict:
    return encrypt_trustee_secret(SECRET, PASS, election_id="e-1", trustee_index=2, log2_n=FAST)


def test_round_trip_through_a_file(tmp_path: Path) -> None:
    path = write_trustee_file(
        tmp_path / "t2.json", SECRET, PASS, election_id="e-1", trustee_index=2, log2_n=FAST
    )
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert "11" * 32 not in path.read_text()  # the secret is not stored in the clear
    assert read_trustee_file(path, PASS) == SECRET


def test_wrong_passphrase_is_named(document: dict) -> None:
    with pytest.raises(WrongPassphraseError, match="wrong passphrase"):
        decrypt_trustee_secret(document, PASS + "!")


def test_flipped_ciphertext_byte_is_corruption_not_passphrase(document: dict) -> None:
    tampered = dict(document)
    raw = bytearray(bytes.fromhex(tampered["ciphertext"]))
    raw[5] ^= 0x01
    tampered["ciphertext"] = raw.hex()
    with pytest.raises(CorruptTrusteeFileError, match="damaged or was modified"):
        decrypt_trustee_secret(tampered, PASS)


def test_header_edit_is_detected(document: dict) -> None:
    tampered = dict(document, trustee_index=3)
    with pytest.raises(TrusteeFileError):
        decrypt_trustee_secret(tampered, PASS)
    weakened = dict(document, kdf=dict(document["kdf"], log2_n=10))
    with pytest.raises(CorruptTrusteeFileError, match="scrypt parameters"):
        decrypt_trustee_secret(weakened, PASS)


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_any_flipped_bit_of_the_file_is_rejected(document: dict, data: st.DataObject) -> None:
    text = json.dumps(document, sort_keys=True)
    position = data.draw(st.integers(0, len(text) - 1))
    bit = data.draw(st.integers(0, 6))
    flipped = text[:position] + chr(ord(text[position]) ^ (1 << bit)) + text[position + 1 :]
    try:
        candidate = json.loads(flipped)
    except ValueError:
        return  # not even JSON any more: read_trustee_file reports that (tested below)
    if candidate == document:
        return  # the flip hit insignificant whitespace-equivalent text
    with pytest.raises(TrusteeFileError):
        decrypt_trustee_secret(candidate, PASS)


def test_file_errors_are_readable(tmp_path: Path) -> None:
    with pytest.raises(TrusteeFileError, match="not found"):
        read_trustee_file(tmp_path / "missing.json", PASS)
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    with pytest.raises(CorruptTrusteeFileError, match="not valid JSON"):
        read_trustee_file(broken, PASS)
    with pytest.raises(CorruptTrusteeFileError, match="unexpected layout"):
        decrypt_trustee_secret({"format": "x"}, PASS)


def test_empty_passphrase_refused() -> None:
    with pytest.raises(TrusteeFileError, match="empty"):
        encrypt_trustee_secret(SECRET, "", election_id="e", trustee_index=1, log2_n=FAST)
