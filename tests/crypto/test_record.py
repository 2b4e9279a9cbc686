"""Election record: round trip, JSON Schema conformance, strict loading with the failing path."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from referencing import Registry, Resource

from civic_votecrypto import record
from civic_votecrypto.trustee_file import encrypt_trustee_secret

from .election_factory import standard

SCHEMAS = Path(__file__).resolve().parents[2] / "docs" / "schemas"


def _validator(name: str) -> jsonschema.Draft202012Validator:
    resources = []
    for path in SCHEMAS.glob("*.json"):
        schema = json.loads(path.read_text())
        resources.append((schema["$id"], Resource.from_contents(schema)))
    registry = Registry().with_resources(resources)
    schema = json.loads((SCHEMAS / name).read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema, registry=registry)


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return json.loads(record.dumps(standard().record))


def test_round_trip_is_exact(document, tmp_path: Path) -> None:
    original = standard().record
    path = tmp_path / "record.json"
    record.dump(original, path)
    loaded = record.load(path)
    assert loaded == original
    assert loaded.to_json() == document


def test_record_matches_its_json_schema(document) -> None:
    validator = _validator("election-record.json")
    validator.validate(document)
    bad = copy.deepcopy(document)
    bad["joint_key"] = "04" + bad["joint_key"][2:]
    assert not validator.is_valid(bad)


def test_trustee_schemas_match_the_objects() -> None:
    election = standard()
    public = _validator("trustee-public.json")
    for ann in election.transcript.announcements:
        public.validate(ann.to_json())
    for msg in election.transcript.commitments:
        public.validate(msg.to_json())
    secret_file = _validator("trustee-secret-file.json")
    share = election.key_shares[0]
    secret_file.validate(
        encrypt_trustee_secret(
            share.to_secret_json(), "pw", election_id="e", trustee_index=1, log2_n=14
        )
    )
    key_share_schema = dict(
        json.loads((SCHEMAS / "trustee-secret-file.json").read_text())["$defs"]["key_share"]
    )
    jsonschema.validate(share.to_secret_json(), key_share_schema)


def _set(doc: dict[str, Any], path: list[Any], value: Any) -> None:
    target = doc
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value


BAD_INPUTS = [
    (["version"], "civic-election-record/0", "version"),
    (["parameters", "trustees"], True, "parameters.trustees"),
    (["parameters", "threshold"], 9, "parameters"),
    (["hashes", "base_hash"], "AB" * 32, "hashes.base_hash"),
    (["joint_key"], "02" + "ff" * 32, "joint_key"),
    (["ballots", "cast", 1, "weight"], 0, "ballots.cast[1].weight"),
    (["ballots", "cast", 2, "ballot", "code"], "00", "ballots.cast[2].ballot"),
    (["ballots", "challenged", 0, "seed"], "zz" * 32, "ballots.challenged[0]"),
    (["ceremony", "commitments", 3, "commitments", 0], "05" + "11" * 32, "ceremony.commitments[3]"),
    (["ceremony", "announcements", 0, "index"], "1", "ceremony.announcements[0]"),
    (["tally", "contests", "mayor", "cand-1", "alpha"], "02" + "00" * 32, "tally"),
    (["tally_shares", 1, "contests", "parks"], {}, "tally_shares[1]"),
    (["results", "contests", "mayor", "cand-1"], -1, "results.contests.mayor.cand-1"),
    (["results", "contests", "mayor"], {}, "results.contests"),
    (["results", "trustees", 0], 6, "results.trustees[0]"),
    (["manifest", "contests"], [], "manifest"),
]


@pytest.mark.parametrize(
    ("path", "value", "where"), BAD_INPUTS, ids=[".".join(map(str, p)) for p, _, _ in BAD_INPUTS]
)
def test_malformed_records_are_rejected_with_their_path(document, path, value, where) -> None:
    bad = copy.deepcopy(document)
    _set(bad, path, value)
    with pytest.raises(record.RecordError) as err:
        record.load_record(bad)
    assert err.value.path == where, str(err.value)


def test_unknown_or_missing_keys_are_rejected(document) -> None:
    extra = dict(document, comment="hi")
    with pytest.raises(record.RecordError, match="unexpected \\['comment'\\]"):
        record.load_record(extra)
    missing = {k: v for k, v in document.items() if k != "tally"}
    with pytest.raises(record.RecordError, match="missing \\['tally'\\]"):
        record.load_record(missing)
    with pytest.raises(record.RecordError, match="not valid JSON"):
        record.loads("{")
    with pytest.raises(record.RecordError, match="cannot read"):
        record.load("/nonexistent/record.json")


def test_parallel_ballot_decoding_gives_the_same_record_and_first_error(
    document, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(record, "PARALLEL_DECODE_CHUNK", 1)  # 4 ballots -> worker processes
    assert record.load_record(document, jobs=2) == record.load_record(document)
    bad = copy.deepcopy(document)
    _set(bad, ["ballots", "cast", 3, "weight"], 0)
    _set(bad, ["ballots", "cast", 1, "ballot", "code"], "00")
    with pytest.raises(record.RecordError) as parallel:
        record.load_record(bad, jobs=2)
    with pytest.raises(record.RecordError) as sequential:
        record.load_record(bad)
    assert parallel.value.path == sequential.value.path == "ballots.cast[1].ballot"
    assert str(parallel.value) == str(sequential.value)
