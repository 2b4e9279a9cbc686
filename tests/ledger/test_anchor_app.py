"""Configuration, Celery task, management commands, API and health of the anchoring app."""

from __future__ import annotations

import json
import runpy
import socket
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from eth_account import Account

from civic import settings as settings_module
from ledger.anchoring import config as config_module
from ledger.anchoring import tasks
from ledger.anchoring.config import AnchorConfigError, load_config
from ledger.anchoring.models import AnchorTransaction
from ledger.anchoring.selectors import anchoring_health
from tests.ledger.anchor_fixtures import (  # noqa: F401 (fixture)
    InProcessChain,
    grow_and_witness,
    in_process_chain,
    make_witness,
)
from tests.ledger.server_fixtures import ledger_keys  # noqa: F401 (fixture)

ANCHOR_SETTINGS = (
    "ANCHOR_RPC_URL",
    "ANCHOR_CHAIN_ID",
    "ANCHOR_CONTRACT",
    "ANCHOR_CONFIRMATIONS",
    "ANCHOR_PRIVATE_KEY",
    "ANCHOR_KEYSTORE_FILE",
    "ANCHOR_KEYSTORE_PASSWORD",
    "ANCHOR_RPC_TIMEOUT",
    "ANCHOR_CHAIN_CHECK_S",
)


@pytest.fixture(autouse=True)
def clean_anchor_settings(settings, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """Each test starts with anchoring unconfigured, whatever the environment says."""
    for name in ANCHOR_SETTINGS:
        monkeypatch.delenv(name, raising=False)
        setattr(settings, name, None)
    return settings


@pytest.fixture
def configured(settings, test_chain: InProcessChain, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """Settings pointing at the in-process chain (``connect`` returns its web3)."""
    monkeypatch.setattr(config_module, "connect", lambda url, timeout: test_chain.w3)
    settings.ANCHOR_RPC_URL = "http://in-process.invalid"
    settings.ANCHOR_CHAIN_ID = str(test_chain.w3.eth.chain_id)
    settings.ANCHOR_CONTRACT = test_chain.chain.contract_address
    settings.ANCHOR_PRIVATE_KEY = test_chain.owner.key.hex()
    settings.ANCHOR_CONFIRMATIONS = "1"
    return test_chain


def _closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


# -- configuration -------------------------------------------------------------------------------


def test_config_defaults_to_off() -> None:
    config = load_config()
    assert not config.enabled and config.confirmations == 2 and config.contract is None


def test_settings_read_the_anchoring_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """civic/settings.py declares every ANCHOR_* value from the environment of the same name."""
    key = Account.create()
    environment = {
        "ANCHOR_RPC_URL": "http://127.0.0.1:8545",
        "ANCHOR_CHAIN_ID": "31337",
        "ANCHOR_CONFIRMATIONS": "3",
        "ANCHOR_CONTRACT": key.address.lower(),
        "ANCHOR_PRIVATE_KEY": key.key.hex(),
        "ANCHOR_KEYSTORE_FILE": "/run/secrets/anchor.json",
        "ANCHOR_KEYSTORE_PASSWORD": "correct horse",
        "ANCHOR_RPC_TIMEOUT": "4",
        "ANCHOR_CHAIN_CHECK_S": "7",
    }
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    declared = runpy.run_path(str(Path(settings_module.__file__)))
    assert {name: declared[name] for name in environment} == environment


def test_config_reads_the_anchoring_settings(settings) -> None:  # type: ignore[no-untyped-def]
    key = Account.create()
    settings.ANCHOR_RPC_URL = "http://127.0.0.1:8545"
    settings.ANCHOR_CHAIN_ID = "31337"
    settings.ANCHOR_CONFIRMATIONS = "3"
    settings.ANCHOR_CONTRACT = key.address.lower()
    settings.ANCHOR_PRIVATE_KEY = key.key.hex()
    config = load_config()
    assert config.enabled and config.chain_id == 31337 and config.confirmations == 3
    assert config.contract == key.address and config.account().address == key.address
    assert key.key.hex() not in repr(config)  # never logged


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("ANCHOR_CHAIN_ID", "mainnet", "ANCHOR_CHAIN_ID must be an integer"),
        ("ANCHOR_CONFIRMATIONS", "0", "at least 1"),
        ("ANCHOR_CONFIRMATIONS", "two", "ANCHOR_CONFIRMATIONS must be an integer"),
        ("ANCHOR_CONTRACT", "0x1234", "ANCHOR_CONTRACT is not an address"),
    ],
)
def test_bad_settings_are_named(settings, name: str, value: str, message: str) -> None:  # type: ignore[no-untyped-def]
    setattr(settings, name, value)
    with pytest.raises(AnchorConfigError, match=message):
        load_config()


def test_keystore_file_and_bad_keys(settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    account = Account.create()
    keystore = tmp_path / "anchor-key.json"
    keystore.write_text(json.dumps(Account.encrypt(account.key, "correct horse", iterations=2)))
    settings.ANCHOR_KEYSTORE_FILE = str(keystore)
    settings.ANCHOR_KEYSTORE_PASSWORD = "correct horse"
    assert load_config().account().address == account.address
    settings.ANCHOR_KEYSTORE_PASSWORD = "wrong"
    with pytest.raises(AnchorConfigError, match="wrong ANCHOR_KEYSTORE_PASSWORD"):
        load_config().account()
    settings.ANCHOR_KEYSTORE_FILE = str(tmp_path / "missing.json")
    with pytest.raises(AnchorConfigError, match="cannot read ANCHOR_KEYSTORE_FILE"):
        load_config().account()
    settings.ANCHOR_KEYSTORE_FILE = None
    with pytest.raises(AnchorConfigError, match="no anchoring key"):
        load_config().account()
    settings.ANCHOR_PRIVATE_KEY = "0x1234"
    with pytest.raises(AnchorConfigError, match="not a 32-byte hex key"):
        load_config().account()


# -- task ----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_task_is_a_no_op_when_anchoring_is_off() -> None:
    task = tasks.anchor_witnessed_checkpoints
    assert task.name == "anchoring.tasks.anchor_witnessed_checkpoints" and task.acks_late
    assert tasks.anchor_witnessed_checkpoints.apply().get() == {"status": "disabled"}


@pytest.mark.django_db
@pytest.mark.usefixtures("ledger_keys")
def test_task_with_unreachable_rpc_reports_and_does_not_raise(settings, caplog) -> None:  # type: ignore[no-untyped-def]
    settings.ANCHOR_RPC_URL = _closed_port_url()
    settings.ANCHOR_PRIVATE_KEY = Account.create().key.hex()
    settings.ANCHOR_CONTRACT = Account.create().address
    settings.ANCHOR_RPC_TIMEOUT = "1"
    grow_and_witness(make_witness(), "city", 1)
    result = tasks.anchor_witnessed_checkpoints.apply().get()
    assert result["status"] == "error" and "unreachable" in result["error"]
    assert any("anchoring delayed" in r.getMessage() for r in caplog.records)
    assert not AnchorTransaction.objects.exists()


@pytest.mark.django_db
def test_task_with_missing_key_logs_a_clear_error(settings, caplog) -> None:  # type: ignore[no-untyped-def]
    settings.ANCHOR_RPC_URL = "http://127.0.0.1:1"
    result = tasks.anchor_witnessed_checkpoints.apply().get()
    assert result["status"] == "error" and "ANCHOR_PRIVATE_KEY" in result["error"]
    assert any("anchoring misconfigured" in r.getMessage() for r in caplog.records)


@pytest.mark.django_db
@pytest.mark.usefixtures("ledger_keys")
def test_task_anchors_through_the_configured_chain(configured: InProcessChain) -> None:
    grow_and_witness(make_witness(), "credentials", 2)
    result = tasks.anchor_witnessed_checkpoints.apply().get()
    assert result["status"] == "ok" and result["covered_logs"] == ["credentials"]
    # ANCHOR_CONFIRMATIONS=1: the transaction's own block makes it final at once.
    assert AnchorTransaction.objects.get().state == "final"
    assert tasks.anchor_witnessed_checkpoints.apply().get()["sent_tx"] is None


# -- commands ------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.usefixtures("ledger_keys")
def test_anchor_deploy_and_anchor_now_commands(configured: InProcessChain, settings) -> None:  # type: ignore[no-untyped-def]
    out, err = StringIO(), StringIO()
    call_command("anchor_deploy", "--if-missing", stdout=out, stderr=err)
    assert out.getvalue().strip() == configured.chain.contract_address  # kept: already deployed
    out = StringIO()
    call_command("anchor_deploy", stdout=out, stderr=StringIO())
    address = out.getvalue().strip()
    assert address != configured.chain.contract_address
    assert len(configured.w3.eth.get_code(address)) > 0
    settings.ANCHOR_CONTRACT = address

    out = StringIO()
    call_command("anchor_now", stdout=out)
    assert out.getvalue().strip() == "nothing to do"
    grow_and_witness(make_witness(), "city", 1)
    out = StringIO()
    call_command("anchor_now", stdout=out)
    assert "covering city" in out.getvalue()
    assert AnchorTransaction.objects.get().contract == address


@pytest.mark.django_db
def test_commands_fail_cleanly_when_misconfigured(settings) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(CommandError, match="ANCHOR_RPC_URL is not set"):
        call_command("anchor_deploy", stdout=StringIO(), stderr=StringIO())
    settings.ANCHOR_RPC_URL = _closed_port_url()
    settings.ANCHOR_PRIVATE_KEY = Account.create().key.hex()
    settings.ANCHOR_RPC_TIMEOUT = "1"
    with pytest.raises(CommandError, match="unreachable"):
        call_command("anchor_deploy", "--wait", "0.6", stdout=StringIO(), stderr=StringIO())
    with pytest.raises(CommandError, match="anchoring delayed"):
        call_command("anchor_now", stdout=StringIO())


# -- API -----------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.urls("tests.ledger.anchor_urls")
@pytest.mark.usefixtures("ledger_keys")
def test_anchors_api_lists_anchors_publicly(configured: InProcessChain, client) -> None:  # type: ignore[no-untyped-def]
    witness = make_witness()
    grow_and_witness(witness, "city", 2)
    grow_and_witness(witness, "credentials", 1)
    tasks.anchor_witnessed_checkpoints.apply()
    response = client.get("/api/ledger/anchors")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    first = body["anchors"][0]
    tx = AnchorTransaction.objects.get()
    assert first["transaction_hash"] == tx.tx_hash and first["final"] is True
    assert first["contract"] == configured.chain.contract_address
    assert first["block_hash"] == tx.block_hash and first["chain_id"] == configured.w3.eth.chain_id
    assert {a["log"] for a in body["anchors"]} == {"city", "credentials"}
    one = client.get("/api/ledger/anchors", {"log": "credentials"}).json()
    assert [a["log"] for a in one["anchors"]] == ["credentials"]
    bad = client.get("/api/ledger/anchors", {"limit": "0", "state": "nonsense"})
    assert bad.status_code == 400
    assert bad.json()["status"] == 400


# -- health --------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_health_when_off_and_when_unreachable(settings) -> None:  # type: ignore[no-untyped-def]
    assert anchoring_health() == {
        "ok": True,
        "enabled": False,
        "detail": "anchoring off (ANCHOR_RPC_URL not set)",
    }
    url = _closed_port_url()
    settings.ANCHOR_RPC_URL = url
    settings.ANCHOR_PRIVATE_KEY = Account.create().key.hex()
    settings.ANCHOR_CONTRACT = Account.create().address
    health = anchoring_health()
    assert not health["ok"] and f"anchoring RPC {url} unreachable" in health["detail"]
    settings.ANCHOR_CHAIN_ID = "x"
    assert anchoring_health()["detail"] == "ANCHOR_CHAIN_ID must be an integer, got 'x'"


@pytest.mark.django_db
def test_health_wrong_chain_no_funds_and_ok(configured: InProcessChain, settings) -> None:  # type: ignore[no-untyped-def]
    healthy = anchoring_health()
    assert healthy["ok"], healthy
    assert healthy["account"] == configured.owner.address and int(healthy["balance_wei"]) > 0
    settings.ANCHOR_CHAIN_ID = "1"
    wrong = anchoring_health()
    assert not wrong["ok"] and "ANCHOR_CHAIN_ID is 1" in wrong["detail"]
    settings.ANCHOR_CHAIN_ID = None
    broke = Account.create()
    configured.chain.transfer_ownership(broke.address)
    settings.ANCHOR_PRIVATE_KEY = broke.key.hex()
    poor = anchoring_health()
    assert not poor["ok"] and poor["detail"].startswith(
        f"no funds: anchoring account {broke.address} holds 0 wei"
    )
    settings.ANCHOR_CONTRACT = Account.create().address
    missing = anchoring_health()
    assert not missing["ok"] and "no contract deployed at ANCHOR_CONTRACT" in missing["detail"]


@pytest.mark.django_db
def test_health_and_errors_never_show_the_rpc_api_key(settings) -> None:  # type: ignore[no-untyped-def]
    """Hosted RPC URLs carry an API key in the path or query: it must not reach /healthz."""
    base = _closed_port_url()
    settings.ANCHOR_RPC_URL = f"{base}/v3/SECRETKEY123?apikey=OTHERSECRET"
    settings.ANCHOR_PRIVATE_KEY = Account.create().key.hex()
    settings.ANCHOR_CONTRACT = Account.create().address
    health = anchoring_health()
    text = json.dumps(health)
    assert not health["ok"] and "unreachable" in health["detail"]
    assert "SECRETKEY123" not in text and "OTHERSECRET" not in text
    assert health["rpc_url"] == f"{base}/…"
