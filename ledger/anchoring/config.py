"""Anchoring configuration, read from Django settings (``civic/settings.py`` reads the environment).

Values are checked here, when used, not at start-up: a bad one shows on /healthz and in the
task's log instead of stopping the platform. Nothing here touches the chain.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import Web3

from ledger.anchoring.chain import AnchorChain, AnchorChainError, connect, public_url

DEFAULT_CONFIRMATIONS = 2


class AnchorConfigError(AnchorChainError):
    """A setting is missing or malformed."""


@dataclass(frozen=True)
class AnchorConfig:
    rpc_url: str
    chain_id: int | None
    contract: str | None
    confirmations: int
    rpc_timeout_s: float
    private_key: str | None = field(default=None, repr=False)
    keystore_file: str | None = None
    keystore_password: str | None = field(default=None, repr=False)

    @property
    def enabled(self) -> bool:
        """Anchoring is on once an RPC endpoint is configured."""
        return bool(self.rpc_url)

    def account(self) -> LocalAccount:
        """The anchoring key: ANCHOR_PRIVATE_KEY, else the encrypted ANCHOR_KEYSTORE_FILE."""
        if self.private_key:
            try:
                return Account.from_key(self.private_key)
            except (ValueError, TypeError) as exc:
                raise AnchorConfigError("ANCHOR_PRIVATE_KEY is not a 32-byte hex key") from exc
        if self.keystore_file:
            path = Path(self.keystore_file)
            try:
                keystore = json.loads(path.read_text())
            except (OSError, ValueError) as exc:
                raise AnchorConfigError(f"cannot read ANCHOR_KEYSTORE_FILE {path}: {exc}") from exc
            try:
                key = Account.decrypt(keystore, self.keystore_password or "")
            except (ValueError, KeyError, TypeError) as exc:
                raise AnchorConfigError(
                    f"cannot decrypt ANCHOR_KEYSTORE_FILE {path}: wrong ANCHOR_KEYSTORE_PASSWORD?"
                ) from exc
            return Account.from_key(key)
        raise AnchorConfigError(
            "no anchoring key: set ANCHOR_PRIVATE_KEY or ANCHOR_KEYSTORE_FILE (+ ANCHOR_KEYSTORE_PASSWORD)"
        )


def _unset_if_empty(value: Any) -> Any:
    """An empty string (``ANCHOR_X=`` in a .env file) means unset, like no value at all."""
    return None if value == "" else value


def _seconds(name: str, value: Any, default: float) -> float:
    if value is None or value == "":
        return default
    try:
        seconds = float(value)
    except (TypeError, ValueError) as exc:
        raise AnchorConfigError(f"{name} must be a number of seconds, got {value!r}") from exc
    return seconds


def chain_check_interval_s() -> float:
    """How long receipts and the ledger page trust the last answer to "which chain is it?"."""
    return _seconds("ANCHOR_CHAIN_CHECK_S", settings.ANCHOR_CHAIN_CHECK_S, 15.0)


def load_config() -> AnchorConfig:
    raw_chain_id = _unset_if_empty(settings.ANCHOR_CHAIN_ID)
    raw_confirmations = _unset_if_empty(settings.ANCHOR_CONFIRMATIONS)
    raw_contract = _unset_if_empty(settings.ANCHOR_CONTRACT)
    try:
        chain_id = int(raw_chain_id) if raw_chain_id is not None else None
    except ValueError as exc:
        raise AnchorConfigError(
            f"ANCHOR_CHAIN_ID must be an integer, got {raw_chain_id!r}"
        ) from exc
    try:
        confirmations = (
            int(raw_confirmations) if raw_confirmations is not None else DEFAULT_CONFIRMATIONS
        )
    except ValueError as exc:
        raise AnchorConfigError(
            f"ANCHOR_CONFIRMATIONS must be an integer, got {raw_confirmations!r}"
        ) from exc
    if confirmations < 1:
        raise AnchorConfigError("ANCHOR_CONFIRMATIONS must be at least 1")
    if raw_contract is not None and not Web3.is_address(raw_contract):
        raise AnchorConfigError(f"ANCHOR_CONTRACT is not an address: {raw_contract!r}")
    return AnchorConfig(
        rpc_url=str(settings.ANCHOR_RPC_URL or ""),
        chain_id=chain_id,
        contract=Web3.to_checksum_address(raw_contract) if raw_contract else None,
        confirmations=confirmations,
        rpc_timeout_s=_seconds("ANCHOR_RPC_TIMEOUT", settings.ANCHOR_RPC_TIMEOUT, 10.0),
        private_key=_unset_if_empty(settings.ANCHOR_PRIVATE_KEY),
        keystore_file=_unset_if_empty(settings.ANCHOR_KEYSTORE_FILE),
        keystore_password=_unset_if_empty(settings.ANCHOR_KEYSTORE_PASSWORD),
    )


def chain_from_config(
    config: AnchorConfig,
    *,
    w3: Web3 | None = None,
    with_key: bool = True,
    timeout_s: float | None = None,
) -> AnchorChain:
    """The chain client the configuration describes (``w3`` lets tests plug an in-process chain)."""
    if w3 is None:
        if not config.enabled:
            raise AnchorConfigError("anchoring is off: ANCHOR_RPC_URL is not set")
        w3 = connect(config.rpc_url, timeout=timeout_s or config.rpc_timeout_s)
    return AnchorChain(
        w3,
        expected_chain_id=config.chain_id,
        contract_address=config.contract,
        account=config.account() if with_key else None,
        label=f"anchoring RPC {public_url(config.rpc_url)}"
        if config.rpc_url
        else "anchoring chain",
    )
