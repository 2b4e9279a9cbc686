"""The trustee program end to end: a 2-of-3 ceremony and a decryption with one trustee absent,
a cheating trustee caught by a complaint, and clean errors (exit 2, no traceback) on bad input."""

from __future__ import annotations

import contextlib
import copy
import io
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from referencing import Registry, Resource

from civic_votecrypto import ballot, decryption, dkg, trustee, trustee_file
from civic_votecrypto.group import N, Point
from civic_votecrypto.manifest import Manifest

REPO = Path(__file__).resolve().parents[2]
MANIFEST: dict[str, Any] = {
    "election_id": "cli-election",
    "title": "Trustee CLI election",
    "contests": [
        {
            "id": "mayor",
            "type": "one_of_n",
            "title": "Mayor",
            "allow_blank": False,
            "options": [{"id": f"c{i}", "title": f"Candidate {i}"} for i in (1, 2, 3)],
        }
    ],
}
VOTES = ["c2", "c1", "c2", "c3", "c2"]
FAST_KDF = str(trustee_file.MIN_LOG2_N)


def run(*argv: str | Path) -> tuple[int, str, str]:
    """main() in process; returns (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = trustee.main([str(a) for a in argv])
        except SystemExit as exc:  # argparse usage errors
            code = int(exc.code or 0)
    return code, out.getvalue(), err.getvalue()


def ok(*argv: str | Path) -> str:
    code, out, err = run(*argv)
    assert code == 0, err
    assert "Traceback" not in err
    return out


@dataclass
class Ceremony:
    d: Path

    def key(self, i: int) -> Path:
        return self.d / f"trustee-{i}.key"

    def pw(self, i: int) -> Path:
        return self.d / f"pass-{i}.txt"

    def ann(self, i: int) -> Path:
        return self.d / f"announcement-{i}.json"

    def comm(self, i: int) -> Path:
        return self.d / f"commitments-{i}.json"

    def compl(self, i: int) -> Path:
        return self.d / f"complaints-{i}.json"

    @property
    def manifest(self) -> Path:
        return self.d / "manifest.json"

    @property
    def ceremony(self) -> Path:
        return self.d / "ceremony.json"

    def secret(self, i: int) -> tuple[str, str, str, str]:
        return ("--secret-file", str(self.key(i)), "--passphrase-file", str(self.pw(i)))

    def start_all(self) -> None:
        self.manifest.write_text(json.dumps(MANIFEST))
        for i in (1, 2, 3):
            self.pw(i).write_text(f"passphrase of trustee {i}\n")
            out = ok(
                "ceremony-start", "--manifest", self.manifest, "--trustees", "3",
                "--threshold", "2", "--index", str(i), "--name", f"Trustee {i}",
                "--out", self.ann(i), "--kdf-log2-n", FAST_KDF, *self.secret(i),
            )  # fmt: skip
            assert "communication key" in out

    def shares(self, i: int) -> str:
        """Returns the announcements fingerprint the trustee reads to the others."""
        anns = [self.ann(j) for j in (1, 2, 3)]
        out = ok("ceremony-shares", *self.secret(i), "--out", self.comm(i), *anns)
        return out.rsplit(": ", 1)[1].strip()

    def receive(self, i: int) -> str:
        files = [self.ann(j) for j in (1, 2, 3)] + [self.comm(j) for j in (1, 2, 3)]
        return ok("ceremony-receive", *self.secret(i), "--out", self.compl(i), *files)

    def joint_key(self) -> dict[str, Any]:
        files = [getattr(self, k)(j) for k in ("ann", "comm", "compl") for j in (1, 2, 3)]
        return json.loads(ok("joint-key", "--out", self.ceremony, *files))


def write_tally(c: Ceremony, outcome: dict[str, Any], votes: list[str]) -> Path:
    """What the election server publishes after the vote: manifest, hashes and the tally."""
    manifest = Manifest.from_json(MANIFEST)
    ceremony = json.loads(c.ceremony.read_text())["body"]
    commitments = [
        Point.from_hex(h)
        for msg in ceremony["commitments"]
        if msg["index"] in outcome["qualified"]
        for h in msg["commitments"]
    ]
    ctx = ballot.ElectionContext.build(
        manifest, Point.from_hex(outcome["joint_key"]), 3, 2, commitments
    )
    assert ctx.extended_hash.hex() == outcome["extended_hash"]
    ballots = [
        ballot.encrypt_ballot(ctx, f"b{k}", {"mayor": {v: 1}}, seed=bytes([k + 1]) * 32)
        for k, v in enumerate(votes)
    ]
    tally = decryption.aggregate_ballots(manifest, ballots)
    path = c.d / "tally.json"
    path.write_text(
        json.dumps(
            {
                "manifest": MANIFEST,
                "hashes": {
                    "base_hash": ctx.base_hash.hex(),
                    "extended_hash": ctx.extended_hash.hex(),
                },
                "ballots": {
                    "cast": [{"ballot": b.to_json(), "weight": 1} for b in ballots],
                    "challenged": [],
                },
                "tally": tally.to_json(),
            }
        )
    )
    return path


@pytest.fixture(scope="module")
def done(tmp_path_factory: pytest.TempPathFactory) -> tuple[Ceremony, dict[str, Any], Path]:
    """A complete honest 2-of-3 ceremony through the CLI, and a published tally."""
    c = Ceremony(tmp_path_factory.mktemp("ceremony"))
    c.start_all()
    fingerprints = {c.shares(i) for i in (1, 2, 3)}
    for i in (1, 2, 3):
        assert "no complaints" in c.receive(i)
    outcome = c.joint_key()
    assert fingerprints == {outcome["announcements_fingerprint"]}
    for i in (1, 2, 3):
        assert "key share stored" in ok("ceremony-finish", *c.secret(i), c.ceremony)
    return c, outcome, write_tally(c, outcome, VOTES)


def test_full_ceremony_and_decryption_with_one_trustee_absent(
    done: tuple[Ceremony, dict[str, Any], Path],
) -> None:
    c, outcome, tally = done
    assert outcome["qualified"] == [1, 2, 3] and outcome["disqualified"] == {}
    # each key file now holds exactly the documented key share, matching the public keys
    for i in (1, 2, 3):
        secret = trustee_file.read_trustee_file(c.key(i), c.pw(i).read_text().strip())
        share = dkg.TrusteeKeyShare.from_secret_json(secret)
        assert share.verification_key.hex() == outcome["verification_keys"][str(i)]
    for i in (1, 3):  # trustee 2 stays home
        ok("decrypt-share", *c.secret(i), "--tally", tally, "--out", c.d / f"share-{i}.json")
    results_path = c.d / "results.json"
    out = ok(
        "combine", "--tally", tally, "--out", results_path, c.ceremony,
        c.d / "share-1.json", c.d / "share-3.json",
    )  # fmt: skip
    results = json.loads(results_path.read_text())
    assert json.loads(out) == results
    expected = {f"c{i}": VOTES.count(f"c{i}") for i in (1, 2, 3)}
    assert results["contests"] == {"mayor": expected}
    assert results["trustees"] == [1, 3] and results["absent"] == [2]
    assert results["rejected"] == {} and results["ballot_count"] == len(VOTES)


def test_combine_names_a_bad_share_and_needs_t_valid_ones(
    done: tuple[Ceremony, dict[str, Any], Path],
) -> None:
    c, _, tally = done
    for i in (1, 2):
        ok("decrypt-share", *c.secret(i), "--tally", tally, "--out", c.d / f"s-{i}.json")
    forged = json.loads((c.d / "s-2.json").read_text())
    proof = forged["body"]["contests"]["mayor"]["c3"]["proof"]
    proof["response"] = format(int(proof["response"], 16) ^ 1, "064x")
    (c.d / "s-2-bad.json").write_text(json.dumps(forged))
    code, out, err = run(
        "combine", "--tally", tally, c.ceremony, c.d / "s-1.json", c.d / "s-2-bad.json"
    )
    assert code == 1 and "only 1 valid" in err and "trustee 2" in err and "mayor/c3" in err
    ok("decrypt-share", *c.secret(3), "--tally", tally, "--out", c.d / "s-3.json")
    code, out, err = run(
        "combine", "--tally", tally, c.ceremony, c.d / "s-1.json", c.d / "s-2-bad.json",
        c.d / "s-3.json",
    )  # fmt: skip
    assert code == 0, err
    assert "REJECTED tally share of trustee 2" in err
    results = json.loads(out)
    assert results["trustees"] == [1, 3] and list(results["rejected"]) == ["2"]
    assert results["contests"]["mayor"]["c2"] == VOTES.count("c2")


def test_cheating_trustee_is_caught_by_a_complaint(tmp_path: Path) -> None:
    c = Ceremony(tmp_path)
    c.start_all()
    c.shares(1)
    c.shares(3)
    # trustee 2 runs a modified program: its share to trustee 1 is off its commitments by one
    secret = trustee.SecretFile.open(str(c.key(2)), c.pw(2).read_text().strip())
    election, honest = secret.ceremony_state()

    class Cheater(dkg.Trustee):
        def polynomial(self, x: int) -> int:
            return (super().polynomial(x) + (x == 1)) % N

    cheater = Cheater.restore(
        election.params, 2, honest.name, honest.communication_secret, honest.coefficients
    )
    anns = {
        j: dkg.TrusteeAnnouncement.from_json(json.loads(c.ann(j).read_text())["body"])
        for j in (1, 2, 3)
    }
    c.comm(2).write_text(
        json.dumps(trustee.envelope("commitments", election, cheater.commit(anns).to_json()))
    )
    assert "BAD SHARE from trustee 2" in c.receive(1)
    assert "no complaints" in c.receive(3)
    c.receive(2)
    outcome = c.joint_key()
    assert outcome["qualified"] == [1, 3] and list(outcome["disqualified"]) == ["2"]
    for i in (1, 3):
        ok("ceremony-finish", *c.secret(i), c.ceremony)
    code, _, err = run("ceremony-finish", *c.secret(2), c.ceremony)
    assert code == 1 and "trustee 2 was disqualified" in err
    tally = write_tally(c, outcome, VOTES[:2])
    for i in (1, 3):
        ok("decrypt-share", *c.secret(i), "--tally", tally, "--out", c.d / f"share-{i}.json")
    results = json.loads(
        ok("combine", "--tally", tally, c.ceremony, c.d / "share-1.json", c.d / "share-3.json")
    )
    assert results["contests"] == {"mayor": {"c1": 1, "c2": 1, "c3": 0}}


def test_altered_relayed_share_is_rejected_naming_the_sender(
    done: tuple[Ceremony, dict[str, Any], Path], tmp_path: Path
) -> None:
    c, _, _ = done
    altered = json.loads(c.comm(3).read_text())
    share = altered["body"]["shares"][0]
    share["ciphertext"] = share["ciphertext"][:-1] + (
        "0" if share["ciphertext"][-1] != "0" else "1"
    )
    (tmp_path / "comm-3.json").write_text(json.dumps(altered))
    files = [c.ann(j) for j in (1, 2, 3)] + [c.comm(1), c.comm(2), tmp_path / "comm-3.json"]
    code, _, err = run("joint-key", *files, *(c.compl(j) for j in (1, 2, 3)))
    assert code == 1 and "trustee 3" in err and "Traceback" not in err


def test_bad_input_exits_2_with_a_clear_message(
    done: tuple[Ceremony, dict[str, Any], Path], tmp_path: Path
) -> None:
    c, _, tally = done
    (tmp_path / "wrong.txt").write_text("not the passphrase\n")
    (tmp_path / "empty.txt").write_text("")
    (tmp_path / "broken.json").write_text("{not json")
    other = {**MANIFEST, "election_id": "another-election"}
    (tmp_path / "other-manifest.json").write_text(json.dumps(other))
    other_tally = json.loads(tally.read_text())
    other_tally["manifest"] = other
    (tmp_path / "other-tally.json").write_text(json.dumps(other_tally))
    cases = [
        (("joint-key", tmp_path / "missing.json"), "not found"),
        (("joint-key", tmp_path / "broken.json"), "not valid JSON"),
        (("joint-key", c.ann(1), c.ann(2)), "missing announcement message from trustee(s) 3"),
        (("joint-key", tally), "is not a trustee message"),
        (
            ("decrypt-share", "--secret-file", c.key(1), "--passphrase-file",
             tmp_path / "wrong.txt", "--tally", tally, "--out", tmp_path / "x.json"),
            "wrong passphrase",
        ),
        (
            ("decrypt-share", *c.secret(1), "--tally", tmp_path / "other-tally.json",
             "--out", tmp_path / "x.json"),
            "another-election",
        ),
        (
            ("decrypt-share", *c.secret(1), "--tally", tmp_path / "broken.json",
             "--out", tmp_path / "x.json"),
            "not valid JSON",
        ),
        (("ceremony-finish", *c.secret(1), c.ceremony), "ceremony is over"),
        (
            ("ceremony-finish", "--secret-file", c.key(1), "--passphrase-file",
             tmp_path / "empty.txt", c.ceremony),
            "must not be empty",
        ),
        (
            ("decrypt-share", "--secret-file", tmp_path, "--passphrase-file", c.pw(1),
             "--tally", tally, "--out", tmp_path / "x.json"),
            "cannot read trustee key file",
        ),
        (
            ("decrypt-share", *c.secret(1), "--tally", tally, "--out",
             tmp_path / "no-such-folder" / "x.json"),
            "cannot write",
        ),
        (
            ("ceremony-start", "--manifest", c.manifest, "--trustees", "3", "--threshold", "2",
             "--index", "1", "--name", "x", "--out", tmp_path / "a.json", *c.secret(1)),
            "refusing to overwrite",
        ),
        (
            ("ceremony-start", "--manifest", c.manifest, "--trustees", "3", "--threshold", "4",
             "--index", "1", "--name", "x", "--out", tmp_path / "a.json",
             "--secret-file", tmp_path / "k", "--passphrase-file", c.pw(1)),
            "1 <= t <= n",
        ),
        (
            ("ceremony-shares", *c.secret(1), "--out", tmp_path / "x.json", c.ann(1),
             tmp_path / "missing.json"),
            "not found",
        ),
    ]  # fmt: skip
    for argv, message in cases:
        code, _, err = run(*argv)
        assert code == 2, (argv, err)
        assert message in err and "Traceback" not in err, (argv, err)
    assert not (tmp_path / "x.json").exists()
    # messages of another ceremony cannot be mixed in
    mixed = json.loads(c.ann(2).read_text())
    mixed["threshold"] = 3
    (tmp_path / "mixed.json").write_text(json.dumps(mixed))
    code, _, err = run("joint-key", c.ann(1), tmp_path / "mixed.json")
    assert code == 2 and "another election" in err


def test_module_entry_point_reports_errors_without_traceback(
    done: tuple[Ceremony, dict[str, Any], Path], tmp_path: Path
) -> None:
    c, _, tally = done
    (tmp_path / "wrong.txt").write_text("nope\n")
    proc = subprocess.run(
        [sys.executable, "-m", "civic_votecrypto.trustee", "decrypt-share", "--secret-file",
         str(c.key(1)), "--passphrase-file", str(tmp_path / "wrong.txt"), "--tally", str(tally),
         "--out", str(tmp_path / "x.json")],
        cwd=REPO, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert proc.returncode == 2
    assert "wrong passphrase" in proc.stderr and "Traceback" not in proc.stderr


def test_a_ceremony_file_with_a_substituted_joint_key_is_refused(
    done: tuple[Ceremony, dict[str, Any], Path], tmp_path: Path
) -> None:
    c, _, tally = done
    forged = json.loads(c.ceremony.read_text())
    forged["body"]["joint_key"] = forged["body"]["verification_keys"]["1"]
    (tmp_path / "ceremony.json").write_text(json.dumps(forged))
    code, _, err = run("joint-key", tmp_path / "ceremony.json")
    assert code == 1 and "published joint_key is not what the messages give" in err
    code, _, err = run("combine", "--tally", tally, tmp_path / "ceremony.json")
    assert code == 1 and "joint_key" in err


def test_decrypt_share_refuses_a_tally_that_is_not_the_sum_of_the_ballots(
    done: tuple[Ceremony, dict[str, Any], Path], tmp_path: Path
) -> None:
    c, _, tally = done
    doc = json.loads(tally.read_text())
    out = ok("decrypt-share", *c.secret(1), "--tally", tally, "--out", tmp_path / "s.json")
    assert f"sum of the {len(VOTES)} cast ballots" in out
    # the server passes one voter's ciphertext off as the tally of c1
    lone = doc["ballots"]["cast"][1]["ballot"]["contests"][0]["selections"][0]["ciphertext"]
    swapped = copy.deepcopy(doc)
    swapped["tally"]["contests"]["mayor"]["c1"] = lone
    (tmp_path / "swapped.json").write_text(json.dumps(swapped))
    code, _, err = run(
        "decrypt-share", *c.secret(1), "--tally", tmp_path / "swapped.json", "--out", tmp_path / "x"
    )
    assert code == 1 and "mayor/c1 is not the sum of the cast ballots" in err
    fewer = copy.deepcopy(doc)
    fewer["ballots"]["cast"].pop()
    (tmp_path / "fewer.json").write_text(json.dumps(fewer))
    code, _, err = run(
        "decrypt-share", *c.secret(1), "--tally", tmp_path / "fewer.json", "--out", tmp_path / "x"
    )
    assert code == 1 and f"{len(VOTES) - 1} ballots are cast" in err
    assert not (tmp_path / "x").exists()
    # without ballots the trustee is warned that nothing could be checked
    bare = {k: v for k, v in doc.items() if k != "ballots"}
    (tmp_path / "bare.json").write_text(json.dumps(bare))
    out = ok(
        "decrypt-share", *c.secret(1), "--tally", tmp_path / "bare.json", "--out", tmp_path / "b"
    )
    assert "lists no ballots" in out


def test_passphrase_prompt_confirms_a_new_key_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "m.json").write_text(json.dumps(MANIFEST))
    answers = iter(["first passphrase", "typo passphrase", "same", "same"])
    monkeypatch.setattr(trustee.getpass, "getpass", lambda prompt="": next(answers))
    argv = (
        "ceremony-start", "--manifest", tmp_path / "m.json", "--trustees", "2", "--threshold",
        "2", "--index", "2", "--name", "B", "--out", tmp_path / "a.json",
        "--secret-file", tmp_path / "k", "--kdf-log2-n", FAST_KDF,
    )  # fmt: skip
    code, _, err = run(*argv)
    assert code == 2 and "the two passphrases differ" in err and not (tmp_path / "k").exists()
    ok(*argv)
    assert trustee_file.read_trustee_file(tmp_path / "k", "same")["stage"] == "ceremony"


def test_every_message_file_matches_its_json_schema(
    done: tuple[Ceremony, dict[str, Any], Path],
) -> None:
    c, _, tally = done
    schemas = REPO / "docs" / "schemas"
    registry = Registry().with_resources(
        (doc["$id"], Resource.from_contents(doc))
        for doc in (json.loads(p.read_text()) for p in schemas.glob("*.json"))
    )
    schema = json.loads((schemas / "trustee-message.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema, registry=registry)
    ok("decrypt-share", *c.secret(2), "--tally", tally, "--out", c.d / "schema-share.json")
    files = [c.ann(1), c.comm(2), c.compl(3), c.ceremony, c.d / "schema-share.json"]
    kinds = set()
    for path in files:
        message = json.loads(path.read_text())
        validator.validate(message)
        kinds.add(message["kind"])
    assert kinds == set(trustee.KINDS)
    bad = json.loads(c.comm(2).read_text())
    bad["body"]["shares"][0]["mac"] = "00"
    assert not validator.is_valid(bad)
