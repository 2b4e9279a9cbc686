"""W3C Bitstring Status List v1.0: the spec's examples and revocation/suspension end to end."""

from __future__ import annotations

import base64
import copy
import gzip
import hashlib
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from identity.core import credentials as vc
from identity.core import data_integrity as di
from identity.core import did_key, did_web
from identity.core import status_list as sl

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def examples(conformance_dir: Path) -> Path:
    return conformance_dir / "bitstring_status_list"


def _load(examples: Path, name: str) -> Any:
    return json.loads((examples / name).read_text())


def test_derived_decoding_of_the_spec_encoded_list(examples: Path) -> None:
    derived = _load(examples, "encodedList_decoding.derived.json")
    raw = sl.decode_encoded_list(derived["encodedList"])
    assert len(raw) == derived["decodedLengthBytes"] == 16_384
    assert hashlib.sha256(raw).hexdigest() == derived["decodedSha256"]
    gz = base64.urlsafe_b64decode(
        derived["encodedList"][1:] + "=" * (-len(derived["encodedList"][1:]) % 4)
    )
    assert gz.hex() == derived["gzipBytesHex"]
    assert len(gz) == derived["gzipLength"]
    status_list = sl.StatusList.decode(derived["encodedList"])
    assert status_list.length == derived["decodedLengthBits"]
    for index, value in derived["expectedStatusAtIndex"].items():
        assert status_list.get(int(index)) == value
    assert derived["allBitsZero"] and not any(status_list.to_bytes())


@pytest.mark.parametrize(
    "name", ["ex3_bitstring_status_list_credential.json", "exA2_status_list_credential.json"]
)
def test_spec_list_credentials_decode(examples: Path, name: str) -> None:
    credential = _load(examples, name)
    subject = credential["credentialSubject"]
    assert subject["type"] == sl.LIST_TYPE
    assert sl.StatusList.decode(subject["encodedList"]).length == sl.MIN_LENGTH_BITS


def test_spec_entries_parse_and_read(examples: Path) -> None:
    revocable = _load(examples, "exA1_revocable_credential.json")
    list_credential = _load(examples, "exA2_status_list_credential.json")
    assert sl.parse_entry(revocable["credentialStatus"]) == (
        "https://example.com/credentials/status/3",
        94567,
        "revocation",
    )
    assert sl.read_status(revocable["credentialStatus"], list_credential) == 0
    both = _load(examples, "ex1_credential_with_revocation_and_suspension_entries.json")
    parsed = [sl.parse_entry(e) for e in both["credentialStatus"]]
    assert [(i, p) for _, i, p in parsed] == [(94567, "revocation"), (23452, "suspension")]
    # The suspension entry points at list 4, not the revocation list 3 we hold.
    with pytest.raises(sl.StatusListError, match="does not match"):
        sl.read_status(both["credentialStatus"][1], list_credential)


def test_entry_and_list_credential_have_the_spec_shape(examples: Path) -> None:
    spec_entry = _load(examples, "exA1_revocable_credential.json")["credentialStatus"]
    entry = sl.status_entry(
        list_credential_url="https://example.com/credentials/status/3",
        index=94567,
        purpose="revocation",
    )
    assert entry == spec_entry
    spec_list = _load(examples, "exA2_status_list_credential.json")
    built = sl.status_list_credential(
        credential_id=spec_list["id"],
        issuer=spec_list["issuer"],
        purpose="revocation",
        status_list=sl.StatusList(),
        valid_from=datetime(2021, 4, 5, 14, 27, 40, tzinfo=UTC),
    )
    # Our GZIP bytes may differ from the spec's encoder; everything else is identical.
    encoded = built["credentialSubject"].pop("encodedList")
    spec_encoded = spec_list["credentialSubject"].pop("encodedList")
    assert sl.decode_encoded_list(encoded) == sl.decode_encoded_list(spec_encoded)
    spec_list["@context"] = [vc.VC_V2_CONTEXT]
    spec_list["credentialSubject"]["id"] = f"{spec_list['id']}#list"
    assert built == spec_list


def test_bit_order_is_most_significant_bit_first() -> None:
    status_list = sl.StatusList()
    status_list.set(0, True)
    status_list.set(9, 1)
    status_list.set(sl.MIN_LENGTH_BITS - 1, True)
    raw = status_list.to_bytes()
    assert raw[0] == 0x80 and raw[1] == 0x40 and raw[-1] == 0x01
    assert sum(bin(b).count("1") for b in raw) == 3
    decoded = sl.StatusList.decode(status_list.encode())
    assert [decoded.get(i) for i in (0, 1, 8, 9, sl.MIN_LENGTH_BITS - 1)] == [1, 0, 0, 1, 1]
    decoded.set(9, False)
    assert decoded.get(9) == 0 and decoded.get(0) == 1


def test_encoding_is_multibase_base64url_gzip() -> None:
    status_list = sl.StatusList()
    status_list.set(12345, True)
    encoded = status_list.encode()
    assert (
        encoded.startswith("u") and "=" not in encoded and "+" not in encoded and "/" not in encoded
    )
    gz = base64.urlsafe_b64decode(encoded[1:] + "=" * (-len(encoded[1:]) % 4))
    assert gzip.decompress(gz) == status_list.to_bytes()


@pytest.mark.parametrize("index", [-1, sl.MIN_LENGTH_BITS, True, "5"])
def test_out_of_range_index(index: Any) -> None:
    with pytest.raises(sl.StatusListError, match="RANGE_ERROR"):
        sl.StatusList().get(index)


def _encode_raw(raw: bytes) -> str:
    return "u" + base64.urlsafe_b64encode(gzip.compress(raw, mtime=0)).rstrip(b"=").decode()


@pytest.mark.parametrize(
    ("encoded", "code"),
    [
        ("z" + "A" * 20, sl.STATUS_VERIFICATION_ERROR),  # wrong multibase
        ("u", sl.STATUS_VERIFICATION_ERROR),
        ("u!!!!", sl.STATUS_VERIFICATION_ERROR),
        (
            "u" + base64.urlsafe_b64encode(b"not gzip").rstrip(b"=").decode(),
            sl.STATUS_VERIFICATION_ERROR,
        ),
        (
            "u"
            + base64.urlsafe_b64encode(gzip.compress(bytes(16384), mtime=0)[:-12])
            .rstrip(b"=")
            .decode(),
            sl.STATUS_VERIFICATION_ERROR,
        ),
        (_encode_raw(bytes(1024)), sl.STATUS_LIST_LENGTH_ERROR),  # under 131,072 entries
    ],
)
def test_malformed_encoded_list(encoded: str, code: str) -> None:
    with pytest.raises(sl.StatusListError) as info:
        sl.decode_encoded_list(encoded)
    assert info.value.code == code


def test_gzip_bomb_is_refused() -> None:
    with pytest.raises(sl.StatusListError) as info:
        sl.decode_encoded_list(_encode_raw(bytes(64 * 1024)), max_bytes=32 * 1024)
    assert info.value.code == sl.STATUS_LIST_LENGTH_ERROR


def test_list_length_rules() -> None:
    assert sl.StatusList(sl.MIN_LENGTH_BITS * 2).length == 262_144
    for bad in (sl.MIN_LENGTH_BITS - 8, sl.MIN_LENGTH_BITS + 1):
        with pytest.raises(sl.StatusListError, match="STATUS_LIST_LENGTH_ERROR"):
            sl.StatusList(bad)


def test_random_free_index() -> None:
    taken = set(range(0, sl.MIN_LENGTH_BITS, 2))
    picks = {sl.random_free_index(sl.MIN_LENGTH_BITS, taken) for _ in range(50)}
    assert all(p % 2 == 1 for p in picks)
    assert len(picks) > 40  # random, not sequential
    with pytest.raises(sl.StatusListError, match="too full"):
        sl.random_free_index(8, set(range(8)), attempts=50)


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"type": "StatusList2021Entry"}, sl.STATUS_VERIFICATION_ERROR),
        ({"statusPurpose": "message"}, sl.STATUS_VERIFICATION_ERROR),
        ({"statusListIndex": 5}, sl.RANGE_ERROR),
        ({"statusListIndex": "-5"}, sl.RANGE_ERROR),
        ({"statusListIndex": "٥"}, sl.RANGE_ERROR),  # a non-ASCII digit
        ({"statusListCredential": ""}, sl.STATUS_RETRIEVAL_ERROR),
        ({"statusSize": 2}, sl.STATUS_VERIFICATION_ERROR),
    ],
)
def test_malformed_entry(change: dict[str, Any], code: str) -> None:
    entry = {
        **sl.status_entry(
            list_credential_url="https://c.example/s/1", index=5, purpose="revocation"
        ),
        **change,
    }
    with pytest.raises(sl.StatusListError) as info:
        sl.parse_entry(entry)
    assert info.value.code == code


# --- end to end: signed credential, signed lists, revoke and suspend ---------------------

CITY = "did:web:city.example"
REVOCATION_URL = "https://city.example/status/1"
SUSPENSION_URL = "https://city.example/status/2"


class City:
    """A tiny in-memory issuer: two signed lists, one residency credential."""

    def __init__(self) -> None:
        self.key = Ed25519PrivateKey.generate()
        raw = self.key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        self.resolver = di.static_resolver(
            {CITY: did_web.city_did_document(CITY, [("key-1", raw)])}
        )
        self.lists = {REVOCATION_URL: sl.StatusList(), SUSPENSION_URL: sl.StatusList()}
        self.published: dict[str, dict[str, Any]] = {}
        self.index = sl.random_free_index(sl.MIN_LENGTH_BITS, set())
        self.publish()
        _, self.citizen = did_key.generate()
        entries = [
            sl.status_entry(
                list_credential_url=REVOCATION_URL, index=self.index, purpose="revocation"
            ),
            sl.status_entry(
                list_credential_url=SUSPENSION_URL, index=self.index, purpose="suspension"
            ),
        ]
        unsigned = vc.residency_credential(
            issuer=CITY,
            subject_did=self.citizen,
            district="d-1",
            credential_id="urn:uuid:11111111-1111-4111-8111-111111111111",
            valid_from=NOW - timedelta(days=1),
            credential_status=entries,
        )
        self.credential = vc.issue(
            unsigned, self.key, f"{CITY}#key-1", created=NOW - timedelta(days=1)
        )

    def publish(self) -> None:
        for url, purpose in ((REVOCATION_URL, "revocation"), (SUSPENSION_URL, "suspension")):
            unsigned = sl.status_list_credential(
                credential_id=url,
                issuer=CITY,
                purpose=purpose,  # type: ignore[arg-type]
                status_list=self.lists[url],
                valid_from=NOW - timedelta(days=2),
                valid_until=NOW + timedelta(days=30),
            )
            self.published[url] = vc.issue(
                unsigned, self.key, f"{CITY}#key-1", created=NOW - timedelta(days=2)
            )

    def verify(self, fetch: Any = None) -> vc.VerificationResult:
        checker = sl.make_status_checker(
            fetch or self.published.get, self.resolver, trusted_issuers={CITY}, now=NOW
        )
        return vc.verify_credential(
            self.credential, self.resolver, now=NOW, trusted_issuers={CITY}, status_checker=checker
        )


def _codes(result: vc.VerificationResult) -> set[str]:
    return {p.code for p in result.problems}


def test_fresh_credential_has_good_status() -> None:
    city = City()
    result = city.verify()
    assert result.verified, result.problems
    assert "status" in result.checks


def test_revocation_flips_verification() -> None:
    city = City()
    city.lists[REVOCATION_URL].set(city.index, True)
    city.publish()
    assert _codes(city.verify()) == {sl.REVOKED}


def test_suspension_and_reinstatement() -> None:
    city = City()
    city.lists[SUSPENSION_URL].set(city.index, True)
    city.publish()
    assert _codes(city.verify()) == {sl.SUSPENDED}
    city.lists[SUSPENSION_URL].set(city.index, False)
    city.publish()
    assert city.verify().verified


def test_neighbouring_bit_does_not_affect_status() -> None:
    city = City()
    neighbour = city.index + 1 if city.index + 1 < sl.MIN_LENGTH_BITS else city.index - 1
    city.lists[REVOCATION_URL].set(neighbour, True)
    city.publish()
    assert city.verify().verified


def test_unsigned_or_tampered_or_missing_list_is_refused() -> None:
    city = City()
    forged = copy.deepcopy(city.published)
    revoked_list = sl.StatusList()
    revoked_list.set(city.index, True)
    forged[REVOCATION_URL]["credentialSubject"]["encodedList"] = revoked_list.encode()
    assert _codes(city.verify(forged.get)) == {sl.STATUS_VERIFICATION_ERROR}
    assert _codes(city.verify(lambda url: None)) == {sl.STATUS_RETRIEVAL_ERROR}
    swapped = {
        REVOCATION_URL: city.published[SUSPENSION_URL],
        SUSPENSION_URL: city.published[REVOCATION_URL],
    }
    assert _codes(city.verify(swapped.get)) == {sl.STATUS_VERIFICATION_ERROR}


def test_list_signed_by_someone_else_is_refused() -> None:
    city = City()
    impostor_key, impostor = did_key.generate()
    fake = sl.status_list_credential(
        credential_id=REVOCATION_URL,
        issuer=impostor,
        purpose="revocation",
        status_list=sl.StatusList(),
        valid_from=NOW - timedelta(days=1),
    )
    signed_fake = vc.issue(
        fake, impostor_key, did_key.verification_method_id(impostor), created=NOW
    )
    published = {**city.published, REVOCATION_URL: signed_fake}
    assert _codes(city.verify(published.get)) == {sl.STATUS_VERIFICATION_ERROR}
