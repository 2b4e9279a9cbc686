"""The browser wallet's own JavaScript (run by Node) against the Django endpoints: binding,
presentation, and an eligibility token blinded and finalized in JS, checked by the ballot box.

This proves the JS JCS / eddsa-jcs-2022 / RFC 9474 code and the Python server agree byte for byte.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from civic.roles import Role
from tests.identity.support_identity import (
    identity_settings,  # noqa: F401 - autouse fixture
    login,
    make_user,
    open_election,
    post_json,
)
from voting.models import EligibilityGrant
from voting.selectors import eligibility

pytestmark = pytest.mark.django_db

REPO = Path(__file__).resolve().parents[2]
JS = REPO / "identity" / "static" / "identity" / "js"
SCRIPT = f"""
import * as w from {json.dumps((JS / "wallet_keys.mjs").as_uri())};
import * as b from {json.dumps((JS / "blind_rsa.mjs").as_uri())};
const input = JSON.parse(await new Promise((ok) => {{ let s = ""; process.stdin.on("data", (d) => s += d); process.stdin.on("end", () => ok(s)); }}));
const hex = (u) => Buffer.from(u).toString("hex");
const unhex = (h) => Uint8Array.from(Buffer.from(h, "hex"));
let out;
if (input.op === "keygen") {{
  const k = w.generateDidKey(); out = {{ secretKey: hex(k.secretKey), did: k.did }};
}} else if (input.op === "bind") {{
  out = {{ signature: w.signBinding(unhex(input.secretKey), input.did, input.nonce, input.domain) }};
}} else if (input.op === "present") {{
  out = w.signPresentation([input.credential], unhex(input.secretKey), input.did, {{ challenge: input.challenge, domain: input.domain }});
}} else if (input.op === "blind") {{
  const pk = await b.importPublicKey(input.pem);
  const ballot = w.generateBallotKey();
  const inputMsg = b.prepare(w.tokenMessage(input.slug, ballot.publicKey));
  const r = await b.blind(pk, inputMsg);
  out = {{ ballotPublicKey: hex(ballot.publicKey), inputMsg: hex(inputMsg), blindedMsg: w.bytesToBase64url(r.blindedMsg), inv: r.inv.toString(16) }};
}} else if (input.op === "finalize") {{
  const pk = await b.importPublicKey(input.pem);
  const sig = await b.finalize(pk, unhex(input.inputMsg), w.base64urlToBytes(input.blindSig), BigInt("0x" + input.inv));
  out = {{ prefix: w.bytesToBase64url(unhex(input.inputMsg).slice(0, 32)), signature: w.bytesToBase64url(sig) }};
}}
process.stdout.write(JSON.stringify(out));
"""


def run_node_script(script: str, payload: dict[str, Any]) -> Any:
    """Run an ES-module script under Node with ``payload`` as JSON on stdin; its JSON stdout."""
    executable = shutil.which("node")
    assert executable, "Node.js is required for the wallet tests (make setup installs it)"
    completed = subprocess.run(
        [executable, "--input-type=module", "-e", script],
        input=json.dumps(payload),
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout)


def node(op: str, **args: Any) -> Any:
    return run_node_script(SCRIPT, {"op": op, **args})


def present(key: dict[str, str], credential: dict[str, Any], challenge: dict[str, str]) -> Any:
    """A presentation of ``credential`` signed by the JS wallet for a server-issued challenge."""
    return node(
        "present",
        secretKey=key["secretKey"],
        did=key["did"],
        credential=credential,
        challenge=challenge["challenge"],
        domain=challenge["domain"],
    )


def test_browser_wallet_binds_presents_and_gets_a_token() -> None:
    official = login(make_user("clerk", Role.OFFICIAL))
    citizen = login(make_user("jo", Role.CITIZEN))
    key = node("keygen")

    challenge = citizen.post("/api/identity/did/challenge").json()
    signature = node(
        "bind",
        secretKey=key["secretKey"],
        did=key["did"],
        nonce=challenge["challenge"],
        domain=challenge["domain"],
    )["signature"]
    bound = post_json(
        citizen,
        "/api/identity/did/bind",
        {"did": key["did"], "challenge": challenge["challenge"], "signature": signature},
    )
    assert bound.status_code == 201, bound.content

    claim = post_json(
        citizen,
        "/api/identity/claims",
        {"legal_name": "Jo Doe", "address": "2 Side St", "district": "east"},
    ).json()
    pk = post_json(official, f"/api/identity/claims/{claim['id']}/approve", {}).json()["id"]
    credential = citizen.get(f"/api/identity/credentials/{pk}").json()

    # A presentation signed by the JS wallet verifies on the server.
    verifier = Client().post("/api/vc/challenges").json()
    vp = present(key, credential, verifier)
    result = post_json(
        Client(),
        "/api/vc/presentations/verify",
        {"verifiablePresentation": vp, "options": verifier},
    ).json()
    assert result["verified"] is True, result

    # Eligibility token: blinded and finalized in JS, signed blindly by the server.
    election = open_election("east-park", "east", make_user("planner", Role.OFFICIAL))
    published = Client().get("/api/voting/elections/east-park/eligibility-key").json()
    blinded = node("blind", pem=published["public_key_pem"], slug="east-park")
    token_challenge = citizen.post("/api/voting/elections/east-park/token-challenge").json()
    vp = present(key, credential, token_challenge)
    answer = post_json(
        citizen,
        "/api/voting/elections/east-park/tokens",
        {"blinded_message": blinded["blindedMsg"], "presentation": vp},
    )
    assert answer.status_code == 201, answer.content
    final = node(
        "finalize",
        pem=published["public_key_pem"],
        inputMsg=blinded["inputMsg"],
        blindSig=answer.json()["blind_signature"],
        inv=blinded["inv"],
    )
    token = {"key_id": published["key_id"], **final}
    ballot_key = bytes.fromhex(blinded["ballotPublicKey"])
    assert eligibility.ballot_authorization_is_valid(election, ballot_key, token)
    assert not eligibility.ballot_authorization_is_valid(election, bytes(32), token)
    assert EligibilityGrant.objects.filter(election=election).count() == 1


LIVE_SCRIPT = f"""
import * as f from {json.dumps((JS / "wallet_flows.mjs").as_uri())};
const input = JSON.parse(await new Promise((ok) => {{ let s = ""; process.stdin.on("data", (d) => s += d); process.stdin.on("end", () => ok(s)); }}));
const headers = {{ Cookie: `sessionid=${{input.session}}; csrftoken=${{input.csrf}}`, Origin: input.origin, "X-Forwarded-Proto": input.proto }};
const api = f.makeApi({{ baseUrl: input.base, csrfToken: () => input.csrf, headers }});
const hex = (u) => Buffer.from(u).toString("hex");
const saved = [];
const save = async (record) => {{ saved.push(record.id); }};
let out;
try {{
  if (input.op === "bind") {{
    const record = await f.createAndBindDid(api, input.urls, save);
    out = {{ did: record.did, secretKey: hex(record.secretKey), saved }};
  }} else {{
    const didRecord = {{ did: input.did, secretKey: Uint8Array.from(Buffer.from(input.secretKey, "hex")) }};
    const record = await f.requestEligibilityToken(api, input.urls, didRecord, save);
    out = {{ token: record.token, publicKey: record.publicKey, saved }};
  }}
}} catch (err) {{
  out = {{ error: err.code, status: err.status, message: String(err.message), cause: String(err.cause ?? ""), saved }};
}}
process.stdout.write(JSON.stringify(out));
"""


def live_node(**args: Any) -> Any:
    return run_node_script(LIVE_SCRIPT, args)


@pytest.mark.django_db(transaction=True)
def test_wallet_flows_against_a_live_server(live_server: Any) -> None:
    """wallet_flows.mjs (what the wallet page runs) over real HTTP, CSRF and session included."""
    import base64

    from django.conf import settings

    official = login(make_user("clerk", Role.OFFICIAL))
    user = make_user("kim", Role.CITIZEN)
    citizen = login(user)
    csrf = "a" * 32  # an unmasked CSRF secret: the cookie and the header must agree
    # As a browser behind the deployment's TLS proxy: the proxy's header, the page's Origin.
    proto = "https" if getattr(settings, "SECURE_PROXY_SSL_HEADER", None) else "http"
    session = {
        "base": live_server.url,
        "csrf": csrf,
        "session": citizen.cookies["sessionid"].value,
        "proto": proto,
        "origin": f"{proto}://{live_server.url.split('://', 1)[1]}",
    }

    urls = {"challengeUrl": "/api/identity/did/challenge", "bindUrl": "/api/identity/did/bind"}
    bound = live_node(op="bind", urls=urls, **session)
    assert bound["saved"] == ["did"], bound
    assert citizen.get("/api/identity/me").json()["did"] == bound["did"]

    claim = post_json(
        citizen,
        "/api/identity/claims",
        {"legal_name": "Kim Lee", "address": "3 Hill Rd", "district": "west"},
    ).json()
    pk = post_json(official, f"/api/identity/claims/{claim['id']}/approve", {}).json()["id"]
    election = open_election("west-bridge", "west", make_user("planner", Role.OFFICIAL))
    token_urls = {
        "slug": "west-bridge",
        "keyUrl": "/api/voting/elections/west-bridge/eligibility-key",
        "challengeUrl": "/api/voting/elections/west-bridge/token-challenge",
        "tokenUrl": "/api/voting/elections/west-bridge/tokens",
        "credentialUrl": f"/api/identity/credentials/{pk}",
    }
    result = live_node(
        op="token", urls=token_urls, did=bound["did"], secretKey=bound["secretKey"], **session
    )
    assert result["saved"] == ["ballot:west-bridge", "ballot:west-bridge"]
    ballot_key = base64.urlsafe_b64decode(
        result["publicKey"] + "=" * (-len(result["publicKey"]) % 4)
    )
    assert eligibility.ballot_authorization_is_valid(election, ballot_key, result["token"])

    again = live_node(
        op="token", urls=token_urls, did=bound["did"], secretKey=bound["secretKey"], **session
    )
    assert (again["status"], again["error"]) == (409, "token_already_issued")

    # Without the CSRF header the session cannot be used from another origin's script.
    refused = live_node(op="bind", urls=urls, **dict(session, csrf=""))
    assert (refused["status"], refused["saved"]) == (403, [])
