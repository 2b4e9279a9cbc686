"""Locust voters for bench/load.py: each one a prepared resident (bench/loadkit/election.py).

A voter's journey, as the booth runs it: GET the election's context and its eligibility key
(the booth's data); POST a token challenge and then the token request with a Verifiable
Presentation signed now over that challenge (signed-in session, CSRF token); unblind the
answer (RFC 9474 finalize); POST the cast. Two phases: every voter first fetches the booth's data
and its token (the wallet's step, as fast as the server answers them), then the voters cast at
the offered rate, Poisson arrivals at CIVIC_LOAD_RATE casts/s: the cast latencies are measured
at that rate, the token step is reported on its own (a token costs the server several times a
cast: docs/operations.md "Load"). What the browser computes beforehand (blinding, the
encrypted ballot, the ballot key's signature) comes prepared. Each voter speaks from its own
client address (``X-Forwarded-For``), as voters behind the city's proxy do.

Retries, as a careful client makes them: an answer of 0 (connection lost), 429 or 5xx is sent
again with back-off until ``CIVIC_LOAD_RETRY_S``; a token request is started over with a new
challenge. Every ``CIVIC_LOAD_TIMEOUT_EVERY``-th voter first sends its cast and hangs up without
reading the answer (a client whose request timed out), then sends the same cast again: it must be
answered 200 with the receipt of the ballot already in the box, never a second ballot.

Configured by environment (bench/loadkit/run.py sets it): CIVIC_LOAD_VOTERS (prepared file),
CIVIC_LOAD_OUT (results file, written when Locust quits), CIVIC_LOAD_RATE, CIVIC_LOAD_USERS.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import secrets
import socket
import string
import time
from typing import Any
from urllib.parse import urlsplit

import gevent
import gevent.event
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from locust import FastHttpUser, constant_throughput, events, task
from locust.exception import StopUser

from identity.core import base64url, blind_rsa, credentials, did_key

with open(os.environ["CIVIC_LOAD_VOTERS"]) as _prepared:
    PREPARED = json.load(_prepared)
SLUG = PREPARED["slug"]
PUBLIC_KEY = blind_rsa.public_key_from_pem(PREPARED["public_key_pem"])
RATE = float(os.environ.get("CIVIC_LOAD_RATE", "100"))
USERS = int(os.environ.get("CIVIC_LOAD_USERS", "200"))
RETRY_S = float(os.environ.get("CIVIC_LOAD_RETRY_S", "60"))
TIMEOUT_EVERY = int(os.environ.get("CIVIC_LOAD_TIMEOUT_EVERY", "10"))
T0 = time.time()
queue = list(reversed(PREPARED["voters"]))
receipts: list[dict[str, Any]] = []
samples: list[tuple[float, str, float, int]] = []  # (start s since T0, step, ms, status)
tokens_done = cast_done = 0
ready: list[tuple[dict[str, Any], dict[str, str] | None, int]] = []
all_tokens = gevent.event.Event()
cast_phase: dict[str, Any] = {"start": None, "next": 0}
_rng = random.Random(11)
ARRIVALS = list(itertools.accumulate(_rng.expovariate(RATE) for _ in PREPARED["voters"]))


def _csrf() -> str:
    return "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(32))


def _address(n: int) -> str:
    return f"10.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}"


def _public(person: dict[str, Any]) -> dict[str, str]:
    return {"X-Forwarded-For": _address(person["n"]), "Content-Type": "application/json"}


class Voter(FastHttpUser):
    network_timeout = 15.0
    connection_timeout = 5.0
    wait_time = constant_throughput(RATE / USERS)

    def _send(self, step: str, method: str, path: str, headers: dict[str, str],
              body: Any = None) -> tuple[int, Any]:  # fmt: skip
        started = time.time()
        data = json.dumps(body).encode() if body is not None else None
        with self.client.request(method, path, data=data, headers=headers, name=step,
                                 catch_response=True) as response:  # fmt: skip
            status = response.status_code or 0
            try:
                payload = response.json() if response.content else None
            except ValueError:
                payload = None
            if status >= 500 or status == 0:
                response.failure(f"{step}: {status}")
            else:
                response.success()
        samples.append((started - T0, step, (time.time() - started) * 1000, status))
        return status, payload

    def _with_retries(self, step: str, call: Any) -> tuple[int, Any, int]:
        deadline = time.time() + RETRY_S
        pause, attempts = 0.25, 0
        while True:
            status, payload = call()
            attempts += 1
            if status not in (0, 429) and status < 500:
                return status, payload, attempts
            if time.time() > deadline:
                return status, payload, attempts
            gevent.sleep(pause)
            pause = min(2.0, pause * 2)

    @task
    def vote(self) -> None:
        """Phase 1: booth data and tokens for the voters still waiting for one; then, once every
        voter holds a token, phase 2: cast, each voter at its slot of the Poisson arrivals."""
        global tokens_done, cast_done
        while queue:
            person = queue.pop()
            try:
                token, attempts = self.booth_and_token(person)
            finally:
                tokens_done += 1
            ready.append((person, token, attempts))
            if tokens_done == len(PREPARED["voters"]):
                all_tokens.set()
        all_tokens.wait()
        if cast_phase["start"] is None:
            cast_phase["start"] = time.time() + 0.2
        while ready:
            person, token, attempts = ready.pop()
            slot = cast_phase["next"]
            cast_phase["next"] += 1
            gevent.sleep(max(0.0, cast_phase["start"] + ARRIVALS[slot] - time.time()))
            try:
                receipts.append(self.cast(person, token, attempts))
            finally:
                cast_done += 1
                if cast_done == len(PREPARED["voters"]):
                    gevent.spawn_later(0.2, self.environment.runner.quit)
        raise StopUser()

    def booth_and_token(self, person: dict[str, Any]) -> tuple[dict[str, str] | None, int]:
        public = _public(person)
        self._send("booth: context", "GET", f"/api/voting/elections/{SLUG}/context", public)
        self._send("booth: eligibility key", "GET", f"/api/voting/elections/{SLUG}/eligibility-key", public)
        return self.token(person, public)

    def cast(self, person: dict[str, Any], token: dict[str, str] | None, token_attempts: int) -> dict[str, Any]:
        public = _public(person)
        out: dict[str, Any] = {"n": person["n"], "choices": person["choices"],
                               "token_attempts": token_attempts}  # fmt: skip
        if token is None:
            out["refused"] = "no token"
            return out
        body = {"ballot": person["ballot"], "ballot_key": person["ballot_key"], "token": token,
                "signature": person["signature"]}  # fmt: skip
        path = f"/api/voting/elections/{SLUG}/ballots"
        if TIMEOUT_EVERY and person["n"] % TIMEOUT_EVERY == TIMEOUT_EVERY - 1:
            out["timeout_retry"] = True
            self.hang_up(path, public, body)
            gevent.sleep(1.0)
        step = "cast (sent again after a timeout)" if out.get("timeout_retry") else "cast"
        status, receipt, attempts = self._with_retries(
            step, lambda: self._send(step, "POST", path, public, body)
        )
        out.update(status=status, cast_attempts=attempts)
        if status in (200, 201) and isinstance(receipt, dict):
            out["tracking_code"] = receipt.get("tracking_code")
            out["receipt"] = receipt
            out["same_receipt"] = status == 200
        else:
            out["refused"] = f"cast answered {status}: {str(receipt)[:200]}"
        return out

    def token(self, person: dict[str, Any], public: dict[str, str]) -> tuple[dict[str, str] | None, int]:
        csrf = _csrf()
        signed_in = {**public, "Cookie": f"sessionid={person['session']}; csrftoken={csrf}",
                     "X-CSRFToken": csrf}  # fmt: skip
        key = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(person["did_key"]))
        deadline, attempts, pause = time.time() + RETRY_S, 0, 0.25
        while time.time() < deadline:
            attempts += 1
            status, challenge = self._send("token: challenge", "POST",
                                           f"/api/voting/elections/{SLUG}/token-challenge", signed_in)  # fmt: skip
            if status == 201 and isinstance(challenge, dict):
                vp = credentials.sign_presentation(
                    credentials.presentation(person["did"], [person["credential"]]), key,
                    did_key.verification_method_id(person["did"]),
                    challenge=challenge["challenge"], domain=challenge["domain"],
                )  # fmt: skip
                status, answer = self._send("token: request", "POST", f"/api/voting/elections/{SLUG}/tokens",
                    signed_in, {"blinded_message": person["blinded"], "presentation": vp,
                                "key_id": PREPARED["key_id"]})  # fmt: skip
                if status == 201 and isinstance(answer, dict):
                    message = bytes.fromhex(person["message"])
                    signature = blind_rsa.finalize(PUBLIC_KEY, message,
                        base64url.decode(answer["blind_signature"], max_length=2048), int(person["inv"], 16))  # fmt: skip
                    return {"key_id": answer["key_id"], "prefix": base64url.encode(message[:32]),
                            "signature": base64url.encode(signature)}, attempts  # fmt: skip
            if status not in (0, 429) and status < 500:
                return None, attempts  # refused (a token already issued: its answer was lost)
            gevent.sleep(pause)
            pause = min(2.0, pause * 2)
        return None, attempts

    def hang_up(self, path: str, headers: dict[str, str], body: dict[str, Any]) -> None:
        """Send the cast and close without reading: the client's timeout, server side unseen."""
        parts = urlsplit(self.host)
        data = json.dumps(body).encode()
        head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        request = (f"POST {path} HTTP/1.1\r\nHost: {parts.netloc}\r\n{head}"
                   f"Content-Length: {len(data)}\r\nConnection: close\r\n\r\n").encode() + data  # fmt: skip
        try:
            with socket.create_connection((parts.hostname, parts.port or 80), timeout=5) as sock:
                sock.sendall(request)
                gevent.sleep(0.01)
        except OSError:
            pass


@events.quitting.add_listener
def _write(environment: Any, **_kwargs: Any) -> None:
    with open(os.environ["CIVIC_LOAD_OUT"], "w") as out:
        json.dump({"receipts": receipts, "samples": samples, "t0": T0}, out)
