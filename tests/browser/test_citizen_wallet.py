"""The wallet page in Chromium: sign-up, a DID made and bound in the browser whose private key
never leaves it, and the encrypted backup carried to a new device (wrong passphrase refused)."""

from __future__ import annotations

import base64
import json

import base58
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.contrib.auth import get_user_model

from identity.core import did_key
from identity.selectors import dids as did_selectors
from tests.browser.conftest import Drive, page_errors

pytestmark = pytest.mark.django_db(transaction=True)

CITIZEN = {"username": "ada", "email": "ada@example.org", "password": "correct horse battery 17"}
PASSPHRASE = "backup passphrase 2026"


def encodings(secret: bytes) -> list[str]:
    """Every way a script could plausibly put the 32-byte Ed25519 seed in a request body."""
    return [
        secret.hex(),
        secret.hex().upper(),
        base64.b64encode(secret).decode(),
        base64.urlsafe_b64encode(secret).decode().rstrip("="),
        base58.b58encode(secret).decode(),
        base58.b58encode(b"\x80\x26" + secret).decode(),  # multibase/multicodec ed25519-priv
        json.dumps(list(secret)),
        secret.decode("latin1"),
    ]


def test_did_created_in_browser_is_bound_and_restored_from_backup(drive: Drive) -> None:
    result = drive("citizen_wallet.mjs", citizen=CITIZEN, passphrase=PASSPHRASE)
    texts = result["texts"]
    user = get_user_model().objects.get(username=CITIZEN["username"])
    assert user.email == CITIZEN["email"]

    # The DID was made in the page, bound on the server (the first of this account's DIDs;
    # it is rotated at the end), and the page says so.
    did = result["boundDid"]
    assert did in {row.did for row in did_selectors.did_history(user)}
    assert result["localBefore"] == texts["none"]
    assert result["boundShown"] == did == result["localAfter"]
    (record,) = result["recordsFirst"]
    assert record["id"] == "did" and record["did"] == did
    secret = bytes.fromhex(record["secretKey"])
    assert did_key.did_from_private_key(Ed25519PrivateKey.from_private_bytes(secret)) == did

    # The private key never left the browser: no request body carries it in any encoding.
    posted = [r for r in result["requests"] if r["body"]]
    assert any(r["url"].endswith("/api/identity/did/bind") and did in r["body"] for r in posted)
    for request in result["requests"]:
        for encoded in encodings(secret):
            assert encoded not in request["body"], request["url"]
            assert encoded not in request["url"]

    # The backup file is encrypted: it names its format, not the key.
    assert result["exported"] == {"text": texts["exported"], "isError": False}
    backup = json.loads(result["backupText"])
    assert backup["format"] == "civic-wallet-backup/v1" and backup["ciphertext"]
    for encoded in encodings(secret):
        assert encoded not in result["backupText"]
    assert did not in result["backupText"]

    # A new device starts empty and says the bound DID's key is missing.
    assert result["localOnNewDevice"] == texts["none"]
    assert result["recordsBeforeRestore"] == []
    assert result["warning"] == {"text": texts["noLocalKey"], "isError": True}

    # Wrong passphrase: a clear error on the page, nothing stored.
    assert result["wrong"]["isError"] is True
    assert result["wrong"]["text"].startswith(f"{texts['error']} {texts['badBackup']}")
    assert result["recordsAfterWrong"] == []

    # Right passphrase: the same DID and key, and the page is content after a reload.
    assert result["restored"] == {"text": texts["restored"], "isError": False}
    assert result["localRestored"] == did
    assert [(r["id"], r["did"], r["secretKey"]) for r in result["recordsRestored"]] == [
        ("did", did, record["secretKey"])
    ]
    assert result["statusAfterReload"] == ""

    # Rotation: after confirming, a new DID is bound; the old one is kept, marked replaced.
    assert result["confirmation"] == texts["confirmReplace"]
    rotated = result["rotatedDid"]
    assert rotated.startswith("did:key:") and rotated != did == result["recordsRestored"][0]["did"]
    assert did_selectors.current_did(user).did == rotated == result["localRotated"]
    assert [row.did for row in did_selectors.did_history(user) if row.replaced_at] == [did]
    assert len(result["earlierDids"]) == 1 and did in result["earlierDids"][0]
    held = {r["id"]: r for r in result["recordsRotated"]}
    assert held["did"]["did"] == rotated
    assert held[f"replaced:{did}"]["secretKey"] == record["secretKey"]

    # Restoring the old backup now brings back the old key (the page warns that it is not the
    # bound one) and keeps the rotated key instead of destroying it.
    assert result["oldRestored"] == {"text": texts["mismatch"], "isError": True}
    after = {r["id"]: r for r in result["recordsOldRestored"]}
    assert after["did"]["secretKey"] == record["secretKey"]
    assert after[f"replaced:{rotated}"]["secretKey"] == held["did"]["secretKey"]
    assert page_errors(result["consoleErrors"]) == []
