"""The trustee program's `decrypt` command against a live server: two of three trustees (one
absent) decrypt and the election publishes the known totals; a run again is idempotent; a server
whose tally is not the sum of the ballots it publishes is refused before anything is decrypted."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from civic.roles import Role
from civic_votecrypto import trustee_file
from tests.identity.support_identity import identity_settings  # noqa: F401
from tests.support import REPO_ROOT
from tests.voting.ballot_box_support import box_settings  # noqa: F401
from tests.voting.tally_support import (
    TallyElection,
    account,
    close,
    eager_celery,  # noqa: F401
    encrypt,
    inline_sequencer,  # noqa: F401
    one_of_three,
    open_tally_election,
    store_ballot,
    trustee_token,
)
from voting.models import DecryptionShare, Election, Tally

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.slow,
    pytest.mark.usefixtures(
        "box_settings", "identity_settings", "eager_celery", "inline_sequencer"
    ),
]
PASSPHRASE = "correct horse battery staple"
TIMEOUT_S = 120


def closed_with_votes(slug: str, votes: list[tuple[str, str]]) -> TallyElection:
    official = account(f"clerk-{slug}", Role.OFFICIAL)
    te = open_tally_election(slug, official)
    for key, option in votes:
        store_ballot(te.election, encrypt(te.election, one_of_three(option)), key)
    close(te.election, official)  # commits: the eager chain freezes and aggregates at once
    assert Tally.objects.get(election=te.election).encrypted is not None
    return te


def key_file(te: TallyElection, index: int, tmp: Path) -> Path:
    share = next(s for s in te.shares if s.index == index)
    path = tmp / f"{te.slug}-trustee-{index}.key"
    trustee_file.write_trustee_file(
        path,
        share.to_secret_json(),
        PASSPHRASE,
        election_id=te.slug,
        trustee_index=index,
        log2_n=trustee_file.MIN_LOG2_N,
    )
    return path


def decrypt(
    server: str, te: TallyElection, index: int, tmp: Path, *extra: str
) -> tuple[int, str, str]:
    (tmp / "pass").write_text(PASSPHRASE + "\n")
    env = {**os.environ, "CIVIC_TRUSTEE_TOKEN": trustee_token(te.trustees[index - 1])}
    argv = [
        sys.executable, "-m", "civic_votecrypto.trustee", "decrypt", "--server", server, "--election", te.slug,
        "--key-file", str(key_file(te, index, tmp)), "--passphrase-file", str(tmp / "pass"), *extra,
    ]  # fmt: skip
    done = subprocess.run(
        argv, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=TIMEOUT_S
    )
    return done.returncode, done.stdout, done.stderr


def test_two_trustees_decrypt_over_the_network_and_the_results_publish(
    live_server: Any, tmp_path: Path
) -> None:
    te = closed_with_votes(
        "net-tally", [("k1", "a"), ("k2", "c"), ("k3", "a"), ("k2", "b"), ("k4", "a")]
    )
    code, out, err = decrypt(
        live_server.url, te, 1, tmp_path, "--out", str(tmp_path / "share-1.json")
    )
    assert code == 0, (out, err)
    assert (
        "checked: the tally is the sum of the 4 counting ballots published (5 ballots listed in all)"
        in out
    )
    assert (
        "trustee 1: partial decryption of 3 options stored by the server (1 of 2 needed received)"
        in out
    )
    assert (tmp_path / "share-1.json").exists()
    code, out, err = decrypt(live_server.url, te, 1, tmp_path)
    assert code == 0 and "already holds your verified partial decryption" in out, (out, err)
    assert DecryptionShare.objects.filter(election=te.election).count() == 1

    code, out, err = decrypt(live_server.url, te, 3, tmp_path)  # trustee 2 stays absent
    assert code == 0, (out, err)
    election = te.refresh()
    assert election.state == Election.State.PUBLISHED
    assert election.tally.results == {
        "trustees": [1, 3],
        "contests": {"q": {"a": 3, "b": 1, "c": 0}},
    }


def test_a_tally_that_is_not_the_sum_of_the_published_ballots_is_refused(
    live_server: Any, tmp_path: Path
) -> None:
    te = closed_with_votes("bad-tally", [("k1", "a"), ("k2", "b")])
    tally = Tally.objects.get(election=te.election)
    swapped = dict(tally.encrypted["contests"]["q"])
    swapped["a"], swapped["b"] = swapped["b"], swapped["a"]
    Tally.objects.filter(pk=tally.pk).update(
        encrypted={**tally.encrypted, "contests": {"q": swapped}}
    )
    code, out, err = decrypt(live_server.url, te, 2, tmp_path)
    assert code == 1, (out, err)
    assert "the tally of q/a is not the sum of the cast ballots; refusing to decrypt it" in err
    assert "Traceback" not in err and DecryptionShare.objects.count() == 0


def test_a_ballot_list_that_does_not_match_its_hashes_is_refused(
    live_server: Any, tmp_path: Path
) -> None:
    te = closed_with_votes("bad-list", [("k1", "a"), ("k2", "b")])
    row = te.election.ballots.order_by("id").first()
    other = encrypt(te.election, one_of_three("c")).to_json()
    type(row).objects.filter(pk=row.pk).update(document=other)
    code, out, err = decrypt(live_server.url, te, 1, tmp_path)
    assert code == 1 and "does not hash to the ballot_sha256" in err, (out, err)
    token_less = subprocess.run(
        [sys.executable, "-m", "civic_votecrypto.trustee", "decrypt", "--server", live_server.url, "--election", te.slug,
         "--key-file", str(tmp_path / "none.key")],
        cwd=REPO_ROOT, env={k: v for k, v in os.environ.items() if k != "CIVIC_TRUSTEE_TOKEN"},
        capture_output=True, text=True, timeout=TIMEOUT_S,
    )  # fmt: skip
    assert token_less.returncode == 2 and "no API credential" in token_less.stderr
