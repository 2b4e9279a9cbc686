"""Deploy the CivicAnchor contract from the anchoring account and print its address."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from web3 import Web3

from ledger.anchoring.chain import AnchorChain, AnchorChainError, ChainUnreachable
from ledger.anchoring.config import chain_from_config, load_config


class Command(BaseCommand):
    help = (
        "Deploy CivicAnchor with the configured anchoring key (ANCHOR_RPC_URL, ANCHOR_CHAIN_ID, "
        "ANCHOR_PRIVATE_KEY or ANCHOR_KEYSTORE_FILE) and print the contract address on stdout; "
        "set it as ANCHOR_CONTRACT."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--if-missing",
            action="store_true",
            help="keep ANCHOR_CONTRACT when a contract owned by this account is already there",
        )
        parser.add_argument(
            "--timeout", type=float, default=120.0, help="seconds to wait for mining"
        )
        parser.add_argument(
            "--wait",
            type=float,
            default=0.0,
            metavar="SECONDS",
            help="wait up to SECONDS for the RPC endpoint to come up (a node just started)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            config = load_config()
            chain = chain_from_config(config)
            chain_id = self._wait_for_chain(chain, options["wait"])
            if options["if_missing"] and config.contract:
                try:
                    chain.check_contract()
                except AnchorChainError as exc:
                    self.stderr.write(f"deploying a new contract: {exc}")
                else:
                    self.stderr.write(f"CivicAnchor already deployed on chain {chain_id}")
                    self.stdout.write(config.contract)
                    return
            chain.contract_address = None
            address, tx_hash = chain.deploy(timeout_s=options["timeout"])
        except AnchorChainError as exc:
            raise CommandError(str(exc)) from exc
        self.stderr.write(
            f"CivicAnchor deployed on chain {chain_id} by {chain.address} in {tx_hash}; "
            f"set ANCHOR_CONTRACT={address}"
        )
        self.stdout.write(Web3.to_checksum_address(address))

    @staticmethod
    def _wait_for_chain(chain: AnchorChain, seconds: float) -> int:
        deadline = time.monotonic() + seconds
        while True:
            try:
                return chain.chain_id()
            except ChainUnreachable:
                if time.monotonic() >= deadline:
                    raise
                time.sleep(0.5)
