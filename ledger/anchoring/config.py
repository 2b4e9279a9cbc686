"""Anchoring configuration, read from Django settings (which read the environment).

Each value falls back to the environment variable of the same name, so the anchoring app works
before (and without) explicit settings lines. Nothing here touches the chain.
"""

from __future__ import annotations

import json
import os
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


def _setting(name: str) -> Any:
    value = getattr(settings, name, None)
    if value is None or value == "":
        value = os.environ.get(name) or None
    return value


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


def load_config() -> AnchorConfig:
    raw_chain_id = _setting("ANCHOR_CHAIN_ID")
    raw_confirmations = _setting("ANCHOR_CONFIRMATIONS")
    raw_contract = _setting("ANCHOR_CONTRACT")
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
        rpc_url=str(_setting("ANCHOR_RPC_URL") or ""),
        chain_id=chain_id,
        contract=Web3.to_checksum_address(raw_contract) if raw_contract else None,
        confirmations=confirmations,
        rpc_timeout_s=float(_setting("ANCHOR_RPC_TIMEOUT") or 10.0),
        private_key=_setting("ANCHOR_PRIVATE_KEY"),
        keystore_file=_setting("ANCHOR_KEYSTORE_FILE"),
        keystore_password=_setting("ANCHOR_KEYSTORE_PASSWORD"),
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
