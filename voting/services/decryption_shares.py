"""Trustees' partial decryptions of the tally: check each share completely, store only a valid one.

A share is the ``civic-trustee-message/1`` envelope of kind ``tally-share`` that the trustee
program writes (``decrypt`` over the network, ``decrypt-share`` offline): it names the election
(id, base hash, n, t) and its body is {trustee, contests: {c: {o: {share, proof}}}}. The server
checks, in order: the sender is a trustee of this election; the encrypted tally exists and the
election is tallying; the envelope is this election's; the body's trustee index is the sender's
and a qualified one; every Chaum–Pedersen proof verifies against the trustee's verification key
and the tally (``verify_tally_share``). A refused share names the trustee and the selections that
fail, and nothing is stored. The same valid share sent again is answered as stored (idempotent);
a different second one is refused. Once ``t`` valid shares are in, publishing is queued.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import rfc8785
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction

from civic.errors import NotFound
from civic_votecrypto import trustee as trustee_messages
from civic_votecrypto.decryption import (
    EncryptedTally,
    PartialDecryptionError,
    TallyShare,
    verify_partial,
    verify_tally_share,
)
from civic_votecrypto.errors import CryptoError
from voting.errors import (
    DuplicateTallyShare,
    MalformedTallyShare,
    NotElectionTrustee,
    TallyNotReady,
    TallyShareRefused,
)
from voting.models import DecryptionShare, Election, ElectionTrustee, Tally
from voting.selectors import tally as selectors
from voting.selectors.elections import crypto_context, election_by_slug
from voting.services import jobs

SHARE_KIND = "tally-share"


@dataclass(frozen=True)
class ShareSubmission:
    share: DecryptionShare
    created: bool
    """False when exactly this share was already stored (a resend)."""
    received: int
    threshold: int


def document_sha256(document: Any) -> str:
    return hashlib.sha256(rfc8785.dumps(document)).hexdigest()


def _election_and_trustee(slug: str, user: AbstractBaseUser) -> tuple[Election, ElectionTrustee]:
    election = election_by_slug(slug)
    if election is None or election.context is None:
        raise NotFound("there is no election with this slug past its key ceremony")
    trustee = ElectionTrustee.objects.filter(election=election, user=user).first()
    if trustee is None:
        raise NotElectionTrustee(f"you are not a trustee of election {election.slug}")
    return election, trustee


def _decode(election: Election, trustee: ElectionTrustee, document: Any) -> TallyShare:
    """The envelope must be this election's tally share from this trustee (no proofs yet)."""
    fresh = trustee_messages.Messages()
    try:
        kind = trustee_messages.add_document(fresh, document, "tally share")
    except trustee_messages.BadInput as exc:
        raise MalformedTallyShare(str(exc)) from None
    if kind != SHARE_KIND:
        raise MalformedTallyShare(f"this endpoint takes {SHARE_KIND} messages, not {kind}")
    if fresh.election != selectors.crypto_identity(election):
        raise MalformedTallyShare(
            "the envelope names another election, base hash or (n, t) than this one"
        )
    body = document["body"]
    if body.get("trustee") != trustee.index:
        raise TallyShareRefused(
            trustee.index,
            [],
            f"trustee {trustee.index}: the share is for trustee {body.get('trustee')}, not yours",
        )
    try:
        return TallyShare.from_json(body, crypto_context(election).manifest)
    except CryptoError as exc:
        raise MalformedTallyShare(
            f"trustee {trustee.index}: malformed tally share: {exc}"
        ) from None


def check_share(election: Election, tally: EncryptedTally, share: TallyShare) -> None:
    """Every proof of the share, batched; on failure name the trustee and each failing selection."""
    keys = selectors.verification_keys(election)
    key = keys.get(share.trustee)
    if key is None:
        raise TallyShareRefused(
            share.trustee,
            [],
            f"trustee {share.trustee} is not a qualified trustee of this election",
        )
    context = crypto_context(election).extended_hash
    try:
        verify_tally_share(context, key, tally, share)
    except PartialDecryptionError as exc:
        failing = []
        for selection, partial in share.partials.items():
            ciphertext = tally.ciphertexts.get(selection)
            if ciphertext is None:
                continue
            try:
                verify_partial(context, share.trustee, key, selection, ciphertext, partial)
            except PartialDecryptionError:
                failing.append(f"{selection[0]}/{selection[1]}")
        raise TallyShareRefused(share.trustee, failing, str(exc)) from None


def submit_share(*, slug: str, user: AbstractBaseUser, document: Any) -> ShareSubmission:
    """POST /tally-shares: check the share, store it, queue publishing once t are in."""
    election, trustee = _election_and_trustee(slug, user)
    threshold = int(election.context["threshold"])
    sha256 = document_sha256(document)
    existing = DecryptionShare.objects.filter(election=election, trustee=trustee).first()
    if existing is not None:
        if existing.sha256 != sha256:
            raise DuplicateTallyShare(
                f"trustee {trustee.index} already sent a different, valid tally share"
            )
        return ShareSubmission(existing, False, len(selectors.shares_received(election)), threshold)
    tally = Tally.objects.filter(election=election).first()
    if tally is None or tally.encrypted is None:
        raise TallyNotReady(
            "the encrypted tally is not computed yet: try again when the trustees are told"
        )
    if tally.encrypted["ballot_count"] == 0:
        raise TallyNotReady("no ballot counts in this election: there is nothing to decrypt")
    if election.state != Election.State.TALLYING:
        raise TallyNotReady(
            f"the election is {election.state}: shares are taken while it is tallying"
        )
    share = _decode(election, trustee, document)
    check_share(election, selectors.encrypted_tally(election, tally), share)
    try:
        with transaction.atomic():
            row = DecryptionShare.objects.create(
                election=election, trustee=trustee, document=document, sha256=sha256
            )
            received = DecryptionShare.objects.filter(election=election).count()
            if received >= threshold:
                jobs.enqueue(jobs.PUBLISH_TASK, tally.pk)
    except IntegrityError:  # sent twice at once: the first one stands
        row = DecryptionShare.objects.get(election=election, trustee=trustee)
        if row.sha256 != sha256:
            raise DuplicateTallyShare(
                f"trustee {trustee.index} already sent a different, valid tally share"
            ) from None
        return ShareSubmission(row, False, len(selectors.shares_received(election)), threshold)
    return ShareSubmission(row, True, received, threshold)
