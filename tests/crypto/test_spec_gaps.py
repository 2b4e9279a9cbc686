"""The gaps an outside reading of docs/protocol-trustees.md found (issue 12), each closed in code.

Duplicate JSON keys, the hash later verifier steps use, contest and yes/no/abstain option ids,
one trustee limit, challenged ballots (missing contest, unknown ids, "also cast"), an election
without ballots, and the share-encryption key's name in the vectors.
"""

from __future__ import annotations

import copy
import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

from civic_votecrypto import (
    ballot,
    dkg,
    limits,
    record,
    strict_json,
    trustee,
    trustee_file,
    verifier,
)
from civic_votecrypto.errors import BallotError, EncodingError
from civic_votecrypto.manifest import Manifest

from .election_factory import MANIFEST_JSON, simulate, standard

VECTORS = Path(__file__).resolve().parents[1] / "vectors" / "trustees"


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return json.loads(record.dumps(standard().record))


def run(doc: dict[str, Any]) -> verifier.Report:
    return verifier.verify_record(record.load_record(doc))


# -- duplicate keys ----------------------------------------------------------------------------
def test_strict_loads_refuses_repeated_keys_at_any_depth() -> None:
    assert strict_json.loads('{"a": {"b": 1}}') == {"a": {"b": 1}}
    with pytest.raises(strict_json.DuplicateKeyError, match="'b'"):
        strict_json.loads('{"a": {"b": 1, "b": 2}}')
    for bad in ('{"x": NaN}', '{"x": Infinity}', '{"x": -Infinity}', "{", b"\xff"):
        with pytest.raises(EncodingError):
            strict_json.loads(bad)


def test_a_record_with_a_repeated_result_key_is_refused(document) -> None:
    text = json.dumps(document)
    results = json.dumps(document["results"]["contests"]["mayor"])
    forged = results.replace('"cand-1": ', '"cand-1": 7, "cand-1": ', 1)
    with pytest.raises(record.RecordError, match="duplicate object key 'cand-1'"):
        record.loads(text.replace(results, forged))
    assert record.loads(text) == standard().record


def test_verifier_cli_refuses_a_repeated_key(document, tmp_path: Path, capsys) -> None:
    path = tmp_path / "record.json"
    path.write_text(json.dumps(document).replace('"trustees": ', '"trustees": 9, "trustees": ', 1))
    assert verifier.main([str(path), "--jobs", "1"]) == 2
    assert "duplicate object key 'trustees'" in capsys.readouterr().err


def test_trustee_program_and_key_files_refuse_repeated_keys(tmp_path: Path) -> None:
    path = tmp_path / "message.json"
    path.write_text('{"format": "a", "format": "b"}')
    with pytest.raises(trustee.BadInput, match="duplicate object key"):
        trustee.read_json(path, "message")
    key = tmp_path / "key.json"
    key.write_text('{"format": "civic-trustee-secret/1", "format": "x"}')
    with pytest.raises(trustee_file.TrusteeFileError, match="not valid JSON"):
        trustee_file.read_trustee_file(key, "pw")


# -- which hashes later steps use --------------------------------------------------------------
def test_later_steps_use_recomputed_hashes_not_forged_published_ones(document) -> None:
    """Change the manifest, keep every published hash: before, only V2 failed and every later
    step passed on the published H_B / H_E; now each step that depends on them fails too."""
    doc = copy.deepcopy(document)
    doc["manifest"]["title"] = "Another election"
    report = run(doc)
    assert 2 in report.failed_steps
    assert {3, 5, 6, 10, 13} <= set(report.failed_steps)  # V7 skips ballots V6 refused
    assert any(
        "bound to another election context" in f.reason or "context" in f.reason
        for f in report.step(6).failures
    )


def test_a_forged_extended_hash_cannot_rescue_ballots(document) -> None:
    doc = copy.deepcopy(document)
    doc["hashes"]["extended_hash"] = "00" * 32
    report = run(doc)
    assert report.failed_steps == [5]  # ballots are checked against the recomputed H_E: still ok


# -- manifest ids ------------------------------------------------------------------------------
def test_contest_ids_are_unique() -> None:
    doc = copy.deepcopy(MANIFEST_JSON)
    doc["contests"][1]["id"] = doc["contests"][0]["id"]
    with pytest.raises(BallotError, match="contest ids must be unique"):
        Manifest.from_json(doc)


@pytest.mark.parametrize(
    "ids",
    [("yes", "no", "maybe"), ("no", "yes", "abstain"), ("Yes", "No", "Abstain"), ("yes", "no")],
)
def test_yes_no_abstain_options_are_exactly_yes_no_abstain(ids: tuple[str, ...]) -> None:
    contest = {
        "id": "q", "type": "yes_no_abstain", "title": "Q?",
        "options": [{"id": i, "title": i} for i in ids],
    }  # fmt: skip
    with pytest.raises(BallotError, match="yes, no, abstain"):
        Manifest.from_json({"election_id": "e", "title": "E", "contests": [contest]})
    contest["options"] = [{"id": i, "title": i} for i in ("yes", "no", "abstain")]
    Manifest.from_json({"election_id": "e", "title": "E", "contests": [contest]})


# -- one trustee limit -------------------------------------------------------------------------
def test_one_trustee_limit_everywhere(document) -> None:
    assert limits.MAX_TRUSTEES == dkg.MAX_TRUSTEES == 255
    with pytest.raises(ValueError, match="255"):
        dkg.CeremonyParameters(256, 2, bytes(32))
    doc = copy.deepcopy(document)
    doc["parameters"]["trustees"] = 256
    with pytest.raises(
        record.RecordError, match=r"parameters.trustees: must be an integer in \[1, 255\]"
    ):
        record.load_record(doc)
    context = standard().context.to_json() if standard().context.trustees else None
    if context is not None:
        context["trustees"] = 256
        with pytest.raises(EncodingError, match="255"):
            ballot.ElectionContext.from_json(context)
    from civic_votecrypto.election import election_from_manifest  # noqa: PLC0415

    with pytest.raises(ValueError, match="255"):
        election_from_manifest(standard().manifest, 256, 2)


# -- challenged ballots ------------------------------------------------------------------------
def _challenged(doc: dict[str, Any]) -> dict[str, Any]:
    return doc["ballots"]["challenged"][0]


def test_challenged_ballot_missing_a_contest_fails_v13_cleanly(document) -> None:
    doc = copy.deepcopy(document)
    _challenged(doc)["ballot"]["contests"].pop()
    report = run(doc)
    assert report.failed_steps == [13]
    (failure,) = report.step(13).failures
    assert failure.obj == "challenged ballot 'ballot-audit' (ballots.challenged[0])"
    assert "missing, extra or out of manifest order" in failure.reason


@pytest.mark.parametrize(
    ("choices", "message"),
    [
        ({"mayor": {"cand-2": 1}, "parks": {"trees": 1}, "zoo": {}}, "unknown contests"),
        ({"mayor": {"cand-9": 1}, "parks": {"trees": 1}}, "unknown options"),
    ],
)
def test_challenged_choices_with_unknown_ids_fail(document, choices, message) -> None:
    doc = copy.deepcopy(document)
    _challenged(doc)["choices"] = choices
    report = run(doc)
    assert report.failed_steps == [13]
    assert message in report.step(13).failures[0].reason


def test_omitted_contest_in_choices_means_zero(document) -> None:
    """The revealed choices may leave out a contest: it stands for all zeros, which here breaks
    the mayor contest's limit (one_of_n without blank), so the claimed vote is not the ballot."""
    doc = copy.deepcopy(document)
    _challenged(doc)["choices"] = {"parks": {"trees": 1}}
    report = run(doc)
    assert report.failed_steps == [13]
    assert "mayor: total 0 outside [1, 1]" in report.step(13).failures[0].reason


def test_also_cast_is_matched_by_id_code_or_ciphertext(document) -> None:
    for mutate in ("ballot_id", "ciphertext"):
        doc = copy.deepcopy(document)
        cast = doc["ballots"]["cast"][0]["ballot"]
        ch = _challenged(doc)["ballot"]
        if mutate == "ballot_id":
            ch["ballot_id"] = cast["ballot_id"]
        else:
            ch["contests"][0]["selections"][0]["ciphertext"] = cast["contests"][0]["selections"][0][
                "ciphertext"
            ]
        report = run(doc)
        assert any(
            f.obj == f"challenged ballot {ch['ballot_id']!r} (ballots.challenged[0])"
            and f.reason == "was also cast (ballots.cast[0])"
            for f in report.step(8).failures
        ), mutate


# -- no ballots --------------------------------------------------------------------------------
def test_an_election_without_ballots_verifies_with_zero_results() -> None:
    empty = simulate(trustees=3, threshold=2, present=(1, 3), votes=(), label="empty")
    text = record.dumps(empty.record)
    loaded = record.loads(text)
    assert loaded == empty.record
    report = verifier.verify_record(loaded)
    assert report.ok, report.lines()
    assert set(loaded.results.values()) == {0}
    assert loaded.tally.ballot_count == 0


def test_an_empty_tally_cannot_hide_a_vote() -> None:
    """A non-empty count over an empty aggregate fails V11 (O decrypts to 0 only)."""
    empty = simulate(trustees=3, threshold=2, present=(1, 3), votes=(), label="empty")
    doc = json.loads(record.dumps(empty.record))
    doc["results"]["contests"]["mayor"]["cand-1"] = 1
    assert 11 in run(doc).failed_steps


# -- the share-encryption key ------------------------------------------------------------------
def test_vectors_name_the_share_encryption_key_for_what_it_is() -> None:
    ceremony = json.loads((VECTORS / "ceremony.json").read_text())
    encryptions = ceremony["share_encryption"]
    assert encryptions and all("encryption_key" in e and "secret_key" not in e for e in encryptions)
    assert dkg.share_encryption_key  # the function's name says the same


def test_v1_records_still_load(document) -> None:
    assert document["version"] == record.RECORD_VERSION_1
    assert dataclasses.replace(record.load_record(document)).version == record.RECORD_VERSION_1


def test_repeated_keys_are_found_wherever_they_are_in_an_object() -> None:
    """The fast check (a dict shorter than its pairs) names the repeated key, first or last."""
    for text, key in (
        ('{"k": 1, "a": 2, "k": 3}', "'k'"),
        ('{"a": 1, "b": 2, "c": 3, "c": 4}', "'c'"),
        ('[{"ok": 1}, {"z": [1, {"y": 0, "y": 0}]}]', "'y'"),
    ):
        with pytest.raises(strict_json.DuplicateKeyError, match=key):
            strict_json.loads(text)
    assert strict_json.loads('{"a": 1, "b": {"a": 1}}') == {"a": 1, "b": {"a": 1}}
