"""Observers: registration (officials only), cosignatures (verified, forged ones refused), witnessing."""

from __future__ import annotations

import base64

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from civic.roles import Role
from civic.services import create_user_with_role
from civic_tlog import merkle, note
from ledger import sequencer, services
from ledger.models import Cosignature, Log, Observer
from tests.ledger.server_fixtures import (  # noqa: F401 (fixture)
    append_many,
    entries_in_order,
    ledger_keys,
    make_observer,
)

pytestmark = [pytest.mark.usefixtures("ledger_keys"), pytest.mark.django_db]
NOW = 1_790_000_000


def login_as(client: Client, role: Role, name: str) -> None:
    user = create_user_with_role(
        username=name, email=f"{name}@example.org", password="correct horse battery", role=role
    )
    client.force_login(user)


@pytest.fixture
def city() -> Log:
    append_many("city", 20)
    sequencer.sequence_all()
    services.sign_checkpoints()
    return Log.objects.get(name="city")


def latest_body(client: Client, log: Log) -> str:
    text = client.get(f"/ledger/{log.name}/checkpoint").content.decode()
    _, body = note.open_checkpoint(text, log.verifier_key, log.origin)
    return body


def post_cosignature(client: Client, log: str, body: str, line: str):
    return client.post(
        f"/api/ledger/{log}/cosignatures",
        {"checkpoint": body, "cosignature": line},
        content_type="application/json",
    )


def test_only_officials_register_observers(client: Client) -> None:
    _, vkey = make_observer("observer.one")
    url = "/api/ledger/observers"
    assert client.post(
        url, {"verifier_key": vkey}, content_type="application/json"
    ).status_code in {
        401,
        403,
    }
    login_as(client, Role.CITIZEN, "carla")
    response = client.post(url, {"verifier_key": vkey}, content_type="application/json")
    assert response.status_code == 403
    assert response.json()["error"]
    assert not Observer.objects.exists()

    other = Client(enforce_csrf_checks=False)
    login_as(other, Role.OFFICIAL, "olga")
    response = other.post(url, {"verifier_key": vkey}, content_type="application/json")
    assert response.status_code == 201, response.content
    assert response.json()["name"] == "observer.one"
    observer = Observer.objects.get()
    assert observer.verifier_key == vkey and observer.registered_by.username == "olga"
    again = other.post(url, {"verifier_key": vkey}, content_type="application/json")
    assert again.status_code == 409 and again.json()["error"] == "observer_exists"
    for bad in ["", "garbage", vkey[:-4] + "AAAA", note.generate_signer("log.key")[1]]:
        response = other.post(url, {"verifier_key": bad}, content_type="application/json")
        # not a key's form: 400; a key's form whose key id does not match: 422
        assert response.status_code == (422 if bad.endswith("AAAA") else 400), bad
        assert response.json()["error"] in {"invalid_verifier_key", "invalid"}
    assert client.get(url).json()[0]["name"] == "observer.one"


def test_management_command_registers(capsys: pytest.CaptureFixture[str]) -> None:
    _, vkey = make_observer("observer.cli")
    call_command("ledger_register_observer", "observer.cli", vkey)
    assert Observer.objects.filter(name="observer.cli").exists()
    call_command("ledger_register_observer", vkey, "--if-missing")
    with pytest.raises(CommandError, match="already"):
        call_command("ledger_register_observer", vkey)
    with pytest.raises(CommandError, match="named"):
        call_command("ledger_register_observer", "someone.else", make_observer("x.y")[1])
    with pytest.raises(CommandError):
        call_command("ledger_register_observer", "not-a-key")


def test_cosignature_makes_the_checkpoint_witnessed(client: Client, city: Log) -> None:
    signer, vkey = make_observer("observer.one")
    services.register_observer(vkey)
    body = latest_body(client, city)
    line = note.cosign(body, signer, NOW)
    # No session, no CSRF token: the signature is the authentication.
    response = post_cosignature(Client(enforce_csrf_checks=True), "city", body, line)
    assert response.status_code == 201, response.content
    assert response.json() == {"accepted": True, "witnessed": True, "cosignatures": 1}
    # Served with the checkpoint, verifiable by anyone holding both keys.
    text = client.get("/ledger/city/checkpoint").content.decode()
    _, verified = note.open_note(text, [city.verifier_key, vkey])
    assert {v.name for v in verified} == {city.origin, "observer.one"}
    assert [v.timestamp for v in verified if v.name == "observer.one"] == [NOW]
    summary = client.get("/api/ledger/logs").json()["logs"][0]
    assert summary["latest_witnessed_size"] == 20
    assert summary["observers"] == [{"name": "observer.one", "verifier_key": vkey}]
    # Posting the same cosignature again is harmless.
    assert post_cosignature(client, "city", body, line).status_code == 201
    assert Cosignature.objects.count() == 1
    # The receipt now carries the cosigned checkpoint and verifies offline.
    receipt = client.get("/api/ledger/city/entries/3").json()["receipt"]
    assert receipt["observer_verifier_keys"] == [vkey]
    _, sigs = note.open_note(receipt["checkpoint"], [receipt["log_verifier_key"], vkey])
    assert len(sigs) == 2
    proof = [bytes.fromhex(h) for h in receipt["inclusion_proof"]]
    entry = base64.b64decode(receipt["entry"])
    root = merkle.root_from_entries(entries_in_order(city))
    assert merkle.verify_inclusion(merkle.leaf_hash(entry), 3, 20, proof, root)
    assert "size 20" in client.get("/ledger/").content.decode()


def test_threshold_of_two(client: Client, city: Log) -> None:
    services.ensure_log("city", witness_threshold=2)
    observers = [make_observer(f"observer.{n}") for n in range(2)]
    for _, vkey in observers:
        services.register_observer(vkey)
    body = latest_body(client, city)
    first = post_cosignature(client, "city", body, note.cosign(body, observers[0][0], NOW)).json()
    assert first == {"accepted": True, "witnessed": False, "cosignatures": 1}
    assert client.get("/api/ledger/logs").json()["logs"][0]["latest_witnessed_size"] is None
    second = post_cosignature(client, "city", body, note.cosign(body, observers[1][0], NOW)).json()
    assert second == {"accepted": True, "witnessed": True, "cosignatures": 2}
    # A deactivated observer no longer counts, and its line is no longer served.
    Observer.objects.filter(name="observer.0").update(active=False)
    assert client.get("/api/ledger/logs").json()["logs"][0]["latest_witnessed_size"] is None
    assert "observer.0" not in client.get("/ledger/city/checkpoint").content.decode()


def flip_bit(line: str, byte: int) -> str:
    prefix, _, b64 = line.rpartition(" ")
    raw = bytearray(base64.b64decode(b64))
    raw[byte] ^= 0x01
    return f"{prefix} {base64.b64encode(bytes(raw)).decode()}"


def test_forged_and_mismatched_cosignatures_are_refused(client: Client, city: Log) -> None:
    signer, vkey = make_observer("observer.one")
    services.register_observer(vkey)
    body = latest_body(client, city)
    line = note.cosign(body, signer, NOW)

    def refused(log: str, checkpoint: str, cosig: str, status: int, code: str) -> None:
        response = post_cosignature(client, log, checkpoint, cosig)
        assert response.status_code == status, response.content
        assert response.json()["error"] == code

    # the signature is the cosignature's authorization: a bad or unknown one is 403
    refused("city", body, flip_bit(line, 40), 403, "bad_signature")  # signature bit
    refused("city", body, flip_bit(line, 6), 403, "bad_signature")  # signed timestamp
    refused("city", body, flip_bit(line, 0), 403, "unknown_observer")  # key id
    stranger, _ = make_observer("observer.one")  # same name, unregistered key
    refused("city", body, note.cosign(body, stranger, NOW), 403, "unknown_observer")
    unregistered, _ = make_observer("observer.two")
    refused("city", body, note.cosign(body, unregistered, NOW), 403, "unknown_observer")
    refused("city", body, "not a signature line", 400, "invalid")  # not the documented form
    # Validly cosigned, but not what this log signed: another root, or a size never signed.
    fork = note.format_checkpoint(city.origin, 20, bytes(32))
    refused("city", fork, note.cosign(fork, signer, NOW), 409, "conflicting_checkpoint")
    future = note.format_checkpoint(city.origin, 21, bytes(32))
    refused("city", future, note.cosign(future, signer, NOW), 404, "unknown_checkpoint")
    other_origin = note.format_checkpoint("elsewhere.example/log", 20, bytes(city.root_hash))
    refused(
        "city", other_origin, note.cosign(other_origin, signer, NOW), 422, "foreign_checkpoint"
    )
    refused("city", "garbage", line, 400, "invalid")
    refused("nope", body, line, 404, "unknown_log")
    response = client.post("/api/ledger/city/cosignatures", {}, content_type="application/json")
    assert response.status_code == 400
    Observer.objects.update(active=False)
    refused("city", body, line, 403, "unknown_observer")
    assert not Cosignature.objects.exists()
