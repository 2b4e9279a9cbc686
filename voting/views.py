"""Voting pages: the list of elections, the booth, and the receipt check. HTTP only."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_GET

from civic.roles import Role, user_has_role
from identity.services import presentations
from voting.markdown import render_markdown
from voting.selectors import elections as selectors
from voting.services.authoring import city_zone


def inclusion_messages() -> dict[str, str]:
    """Texts shared by the booth and the receipt check about a ballot's ledger inclusion.
    ``%(name)s`` placeholders are filled in by the page."""
    return {
        "verifying": _("Verifying that the public ledger includes your ballot…"),
        "waiting": _("Waiting for the observers to witness the ledger…"),
        "verified": _(
            "Verified: the public ledger includes this ballot, in a checkpoint the observers cosigned."
        ),
        "not_verified": _(
            "Warning: the ledger's proof for this ballot does NOT verify. Keep the receipt and tell the observers."
        ),
        "not_yet": _(
            "No checkpoint witnessed by the observers covers this ballot yet. Check again later."
        ),
        "fetch_failed": _("The ballot's current proof could not be fetched:"),
        "position": _("Position in the ledger: entry %(index)s of log %(log)s."),
        "checkpoint": _("Checkpoint: %(size)s entries, root %(root)s."),
        "anchor": _("Anchored on chain %(chain)s in transaction %(tx)s, block %(block)s."),
        "no_anchor": _("No blockchain anchor covers this checkpoint yet."),
        # The tracking page's sentences (voting/views_tracking.py), the same msgids.
        "status_counting": _(
            "Cast and counting: this is the ballot that counts for its ballot key."
        ),
        "status_superseded": _(
            "Cast, then superseded by a later ballot under the same ballot key: it is not counted."
        ),
        "status_spoiled": _(
            "Challenged (spoiled): it was opened for an audit and is never counted."
        ),
    }


def check_names() -> dict[str, str]:
    """The names of the browser verifier's checks (receipt.mjs, inclusion.mjs), as the booth and
    the receipt page list them; a check's detail stays the verifier's own technical text."""
    return {
        "receipt": _("receipt"),
        "election context": _("election context"),
        "ballot encoding": _("ballot encoding"),
        "tracking code": _("tracking code"),
        "binding and code": _("binding and code"),
        "proofs": _("proofs"),
        "cast": _("cast"),
        "ledger receipt": _("ledger receipt"),
        "ledger entry": _("ledger entry"),
        "leaf hash": _("leaf hash"),
        "log key": _("log key"),
        "log signature": _("log signature"),
        "tree size": _("tree size"),
        "inclusion proof": _("inclusion proof"),
        "cosignatures": _("cosignatures"),
        "anchor": _("anchor"),
        "anchor hash": _("anchor hash"),
        "anchored checkpoint": _("anchored checkpoint"),
        "anchor consistency": _("anchor consistency"),
    }


def booth_messages() -> dict[str, Any]:
    """Texts the booth's JavaScript shows, translated on the server."""
    return {
        "encrypting": _("Encrypting your ballot on this device…"),
        "encrypted": _("Your ballot is encrypted."),
        "not_encrypted": _("Your ballot could not be encrypted:"),
        "whole_number": _("Points must be whole numbers of 0 or more."),
        "auditing": _("Opening the checked ballot…"),
        "audited": _("Check finished."),
        "audit_ok": _("The device encrypted exactly the choices shown below."),
        "audit_bad": _("Warning: the device did not encrypt your choices. Do not use it to vote."),
        "getting_token": _("Getting your voting token from your wallet…"),
        "no_local_did": _(
            "This browser holds no wallet key: restore your wallet backup on the wallet page, then come back."
        ),
        "did_mismatch": _(
            "The wallet key in this browser is not the DID bound to your account: restore the right backup in your wallet."
        ),
        "no_credential": _(
            "You have no valid residency credential, so you cannot get a voting token."
        ),
        "already_issued": _(
            "Your voting token for this election went to another device: vote there, or restore that device's wallet backup here."
        ),
        "not_signed_in": _("Log in as a citizen with a residency credential to cast a ballot."),
        "no_token": _(
            "Without a voting token the checked ballot stays on this device and is not published."
        ),
        "spoiling": _("Publishing the checked ballot as spoiled…"),
        "spoiled": _(
            "The checked ballot is published as spoiled and will never be counted. Its tracking code:"
        ),
        "not_spoiled": _("The checked ballot could not be published:"),
        "casting": _("Casting your ballot…"),
        "cast": _("Your ballot is cast."),
        "not_cast": _("Your ballot could not be cast:"),
        "unreachable": _("the server could not be reached."),
        "mismatch": _("the ballot box answered for another ballot."),
        "checks": check_names(),
        **inclusion_messages(),
    }


def receipt_messages() -> dict[str, Any]:
    return {
        "not_json": _("This is not a JSON receipt:"),
        "published_check": _("published by this city"),
        "not_published": _("this election context was not published here"),
        "valid": _("The receipt is valid. Tracking code:"),
        "invalid": _("The receipt is NOT valid: see the failed checks."),
        "checking": _("Checking the receipt in this browser…"),
        "current_proof": _("current inclusion in the ledger"),
        "checks": check_names(),
        **inclusion_messages(),
    }


def booth_config(request: HttpRequest, election: Any) -> dict[str, Any]:
    """URLs and wallet facts the booth's script needs: where to cast, where the token comes
    from (only a signed-in citizen's wallet can fetch one), and which DID the wallet must hold."""
    slug = election.slug
    wallet = (
        presentations.wallet_state(request.user)
        if user_has_role(request.user, Role.CITIZEN)
        else None
    )
    token = None
    if wallet is not None:
        token = {
            "slug": slug,
            "keyUrl": reverse("voting:api-eligibility-key", args=[slug]),
            "challengeUrl": reverse("voting:api-eligibility-challenge", args=[slug]),
            "tokenUrl": reverse("voting:api-eligibility-tokens", args=[slug]),
            "credentialUrl": reverse("identity:api-credential", args=[wallet.credential_id])
            if wallet.credential_id is not None
            else "",
        }
    return {
        "slug": slug,
        "ballotsUrl": reverse("voting:api-ballots", args=[slug]),
        "spoiledUrl": reverse("voting:api-ballots-spoiled", args=[slug]),
        "open": selectors.election_is_open(election),
        "token": token,
        "boundDid": wallet.did if wallet is not None else None,
        "verifyUrl": reverse("voting:verify-receipt"),
    }


@require_GET
def election_list(request: HttpRequest) -> HttpResponse:
    """Elections past their key ceremony, windows in the city's time zone. A citizen with a
    residency credential sees their district's and the city-wide ones (``?all=1``: every one)."""
    district = (
        presentations.residency_district(request.user)
        if user_has_role(request.user, Role.CITIZEN)
        else None
    )
    show_all = request.GET.get("all") == "1"
    elections = selectors.elections_for_district(None if show_all else district)
    zone = city_zone()
    with timezone.override(zone):
        return render(
            request,
            "voting/elections.html",
            {"elections": elections, "district": district, "show_all": show_all, "zone": zone.key},
        )


@ensure_csrf_cookie
@require_GET
def booth(request: HttpRequest, slug: str) -> HttpResponse:
    """The booth: choices are encrypted in a Web Worker on the voter's device, never sent in clear."""
    election = selectors.election_by_slug(slug)
    if election is None or not selectors.is_public(election):
        raise Http404("no such election")
    return render(
        request,
        "voting/booth.html",
        {
            "election": election,
            "description_html": render_markdown(election.description),
            "contests": election.context["manifest"]["contests"],
            "booth_messages": booth_messages(),
            "booth_config": booth_config(request, election),
        },
    )


@require_GET
def verify_receipt(request: HttpRequest) -> HttpResponse:
    """Check a ballot receipt's proofs in the browser, against the contexts this city published."""
    contexts = {e.context["extended_hash"]: e.title for e in selectors.public_elections()}
    return render(
        request,
        "voting/verify_receipt.html",
        {
            "published_contexts": contexts,
            "receipt_messages": receipt_messages(),
            # The slug goes where the placeholder is (slugs never contain underscores twice).
            "ballots_url": reverse("voting:api-ballots", args=["__slug__"]),
        },
    )
