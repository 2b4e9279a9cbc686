"""The key ceremony over HTTP: three real trustee processes (the CLI's `ceremony` command) against
a live server; one killed between rounds resumes without repeating a step; a dishonest trustee's
bad share is caught by a complaint and disqualified, and the ceremony still completes (2 of 3)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from civic.roles import Role
from civic_votecrypto import dkg, trustee_file
from civic_votecrypto import trustee as cli
from civic_votecrypto.group import N, base_mul
from tests.support import REPO_ROOT
from tests.voting.ceremony_support import (
    BadShareTrustee,
    crypto_election,
    election_in_ceremony,
    token_for,
    user,
)
from voting.models import CeremonyMessage, Election

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]
WAIT_S = 120
PASSPHRASE = "correct horse battery staple"


def wait_for(condition: Callable[[], bool], what: str, timeout: float = WAIT_S) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.2)


class Trustees:
    """Starts `python -m civic_votecrypto.trustee ceremony` processes for one election."""

    def __init__(self, server: str, slug: str, tmp: Path) -> None:
        self.server, self.slug, self.tmp = server, slug, tmp
        (tmp / "pass").write_text(PASSPHRASE + "\n")

    def key_file(self, index: int) -> Path:
        return self.tmp / f"trustee-{index}.key"

    def start(self, index: int, token: str, *extra: str) -> subprocess.Popen[str]:
        env = {**os.environ, "CIVIC_TRUSTEE_TOKEN": token}
        argv = [
            sys.executable, "-m", "civic_votecrypto.trustee", "ceremony",
            "--server", self.server, "--election", self.slug,
            "--key-file", str(self.key_file(index)), "--passphrase-file", str(self.tmp / "pass"),
            "--poll-interval", "1", "--timeout", str(WAIT_S), "--kdf-log2-n", str(trustee_file.MIN_LOG2_N),
            *extra,
        ]  # fmt: skip
        return subprocess.Popen(
            argv, cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )


def finish(process: subprocess.Popen[str]) -> tuple[int, str, str]:
    try:
        out, err = process.communicate(timeout=WAIT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        out, err = process.communicate()
        pytest.fail(f"a trustee process hung:\n{out}\n{err}")
    return process.returncode, out, err


def key_share(path: Path) -> dkg.TrusteeKeyShare:
    return dkg.TrusteeKeyShare.from_secret_json(trustee_file.read_trustee_file(path, PASSPHRASE))


def sha_of(index: int, kind: str) -> list[str]:
    return list(CeremonyMessage.objects.filter(trustee__index=index, kind=kind).values_list("sha256", flat=True))


def test_three_trustee_processes_one_killed_between_rounds_resumes(live_server: Any, tmp_path: Path) -> None:
    accounts = [user(f"net{i}", Role.TRUSTEE) for i in (1, 2, 3)]
    election = election_in_ceremony("net-vote", accounts, threshold=2)
    tokens = [token_for(a) for a in accounts]
    trustees = Trustees(live_server.url, "net-vote", tmp_path)

    # Trustee 1 announces, then waits for the others; it is killed while waiting.
    first = trustees.start(1, tokens[0])
    wait_for(lambda: bool(sha_of(1, "announcement")), "trustee 1's announcement")
    time.sleep(0.5)
    first.send_signal(signal.SIGKILL)
    first.communicate(timeout=30)
    announced = sha_of(1, "announcement")
    assert trustees.key_file(1).exists()

    # All three run; trustee 1 resumes from its key file and the server's state.
    processes = [trustees.start(i, tokens[i - 1]) for i in (1, 2, 3)]
    results = [finish(p) for p in processes]
    for code, out, err in results:
        assert code == 0, (out, err)
        assert "Traceback" not in err
    resumed_out = results[0][1]
    assert "announcement sent" not in resumed_out  # not repeated
    assert "waiting for the" in results[0][1] + results[1][1] + results[2][1]
    assert sha_of(1, "announcement") == announced
    assert CeremonyMessage.objects.filter(election=election).count() == 9

    election.refresh_from_db()
    assert election.state == Election.State.SCHEDULED
    joint_key = election.context["joint_key"]
    for _, out, _ in results:
        assert f"joint key {joint_key}" in out
    shares = [key_share(trustees.key_file(i)) for i in (1, 2, 3)]
    assert [s.qualified for s in shares] == [(1, 2, 3)] * 3
    transcript = crypto_election(election)
    assert all(s.base_hash == transcript.base_hash for s in shares)
    # Any two shares reconstruct the joint key's secret (Lagrange at 0) — a real 2-of-3 key.
    def lagrange(i: int, others: list[int]) -> int:
        num, den = 1, 1
        for j in others:
            num, den = num * j % N, den * (j - i) % N
        return num * pow(den, -1, N) % N

    secret = sum(shares[i - 1].share * lagrange(i, [j for j in (1, 3) if j != i]) for i in (1, 3)) % N
    assert base_mul(secret).hex() == joint_key

    # Run again after the end: nothing sent, exit 0.
    code, out, err = finish(trustees.start(2, tokens[1]))
    assert code == 0 and "finished" in out, err
    assert CeremonyMessage.objects.filter(election=election).count() == 9


def test_a_dishonest_trustee_is_disqualified_by_a_complaint_over_the_network(live_server: Any, tmp_path: Path) -> None:
    accounts = [user(f"hon{i}", Role.TRUSTEE) for i in (1, 2, 3)]
    election = election_in_ceremony("net-cheat", accounts, threshold=2)
    tokens = [token_for(a) for a in accounts]
    trustees = Trustees(live_server.url, "net-cheat", tmp_path)
    honest = [trustees.start(i, tokens[i - 1]) for i in (1, 2)]

    # Trustee 3 cheats: valid proofs, but the share for trustee 1 is off its commitments.
    crypto = crypto_election(election)
    cheat = BadShareTrustee(crypto.params, 3, "Mallory")
    api = f"{live_server.url}/api/voting/elections/net-cheat/ceremony"
    with httpx.Client(headers={"Authorization": f"Bearer {tokens[2]}"}, timeout=30) as http:

        def post(kind: str, body: Any) -> None:
            response = http.post(f"{api}/messages", json=cli.envelope(kind, crypto, body))
            assert response.status_code == 201, response.text

        def held(kind: str) -> cli.Messages:
            messages = cli.Messages()
            for doc in http.get(f"{api}/messages").json()["messages"]:
                cli.add_document(messages, doc, "server")
            return messages

        post("announcement", cheat.announce().to_json())
        wait_for(lambda: len(held("announcement").announcements) == 3, "every announcement")
        anns = held("announcement").announcements
        post("commitments", cheat.commit(anns).to_json())
        wait_for(lambda: len(held("commitments").commitments) == 3, "every commitment")
        msgs = held("commitments")
        complaints = cheat.receive(msgs.announcements, msgs.commitments)
        post("complaints", {"trustee": 3, "complaints": [c.to_json() for c in complaints]})

    results = [finish(p) for p in honest]
    for code, out, err in results:
        assert code == 0, (out, err)
    assert "BAD SHARE from trustee(s) 3" in results[0][1]
    assert "disqualified 3" in results[0][1] and "disqualified 3" in results[1][1]
    election.refresh_from_db()
    assert election.state == Election.State.SCHEDULED
    state = httpx.get(api).json()
    assert state["qualified"] == [1, 2] and list(state["disqualified"]) == ["3"]
    assert state["complaints"][0]["accuser"] == 1 and state["complaints"][0]["upheld"] is True
    assert [key_share(trustees.key_file(i)).qualified for i in (1, 2)] == [(1, 2), (1, 2)]


def test_cli_network_errors_are_one_line_with_their_exit_code(live_server: Any, tmp_path: Path) -> None:
    accounts = [user("solo", Role.TRUSTEE)]
    election_in_ceremony("net-err", accounts, threshold=1)
    trustees = Trustees(live_server.url, "net-err", tmp_path)
    # A bad credential: unusable input (2), one line, nothing stored.
    code, out, err = finish(trustees.start(1, "0123456789abcdef." + "a" * 43))
    assert code == 2 and err.count("\n") == 1 and "HTTP 401" in err and "Traceback" not in err, err
    # Another election's slug that does not exist: 2.
    other = Trustees(live_server.url, "no-such-election", tmp_path)
    code, _, err = finish(other.start(1, token_for(accounts[0])))
    assert code == 2 and "HTTP 404" in err
    # A server that is not there: network problem (3), run again to resume.
    gone = Trustees("http://127.0.0.1:9", "net-err", tmp_path)
    code, _, err = finish(gone.start(1, token_for(accounts[0])))
    assert code == 3 and err.startswith("network: cannot reach") and err.count("\n") == 1
    assert CeremonyMessage.objects.count() == 0
    # A one-trustee ceremony completes alone.
    code, out, err = finish(trustees.start(1, token_for(accounts[0])))
    assert code == 0, err
