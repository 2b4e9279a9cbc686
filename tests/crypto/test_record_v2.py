"""Record v2: the streaming writer, the record hash, the schema, strict loading of the new parts."""

from __future__ import annotations

import copy
import io
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import rfc8785
from referencing import Registry, Resource

from civic_votecrypto import record, strict_json, verifier
from tests import record_builder as rb

SCHEMAS = Path(__file__).resolve().parents[2] / "docs" / "schemas"


@pytest.fixture(scope="module")
def election() -> rb.BuiltElection:
    return rb.standard()


def test_writer_hash_is_rfc8785_of_the_record_without_its_signature(election) -> None:
    doc = election.copy_document()
    unsigned = {k: v for k, v in doc.items() if k != "city_signature"}
    import hashlib  # noqa: PLC0415

    expected = hashlib.sha256(rfc8785.dumps(unsigned)).digest()
    loaded = election.record
    assert loaded.record_sha256 == expected == record.record_hash(doc)
    assert record.verify_city_signature(expected, loaded.city_signature)


def test_round_trip_through_the_writer_is_byte_identical(election) -> None:
    loaded = election.record
    assert record.dumps(loaded) == election.text
    assert record.loads(record.dumps(loaded)) == loaded


def test_the_writer_streams_one_ballot_per_line(election) -> None:
    lines = election.text.splitlines()
    cast_lines = [line for line in lines if line.startswith('{"ballot":')]
    assert len(cast_lines) == len(election.document["ballots"]["cast"])
    assert all(json.loads(line.rstrip(",")) for line in cast_lines)


def test_writer_api_by_hand_and_its_order_rules(election) -> None:
    rec = election.record
    buffer = io.StringIO()
    writer = record.RecordWriter(buffer).header(rec.header_json())
    for entry in rec.cast:
        writer.cast(entry)
    for entry in rec.challenged_json():
        writer.challenged(entry)
    footer = rec.footer_json()
    with pytest.raises(ValueError, match="cast"):
        writer.cast(rec.cast[0])
    digest = writer.footer(
        footer["tally"], footer["tally_shares"], footer["results"],
        sign=record.ed25519_signer(election.city_key),
    )  # fmt: skip
    assert digest == rec.record_sha256
    assert buffer.getvalue() == election.text
    with pytest.raises(ValueError, match="header"):
        record.RecordWriter(io.StringIO()).header({"election": {}})


def test_empty_election_writes_and_loads() -> None:
    empty = rb.empty()
    loaded = empty.record
    assert loaded.cast == () and loaded.challenged == ()
    assert verifier.verify_record(loaded).ok


def test_v2_record_matches_the_schema(election) -> None:
    resources = []
    for path in SCHEMAS.glob("*.json"):
        schema = json.loads(path.read_text())
        resources.append((schema["$id"], Resource.from_contents(schema)))
    schema = json.loads((SCHEMAS / "election-record.json").read_text())
    validator = jsonschema.Draft202012Validator(
        schema, registry=Registry().with_resources(resources)
    )
    validator.validate(election.document)
    validator.validate(rb.empty().document)
    bad = copy.deepcopy(election.document)
    del bad["log"]
    assert not validator.is_valid(bad)
    bad = copy.deepcopy(election.document)
    bad["ballots"]["cast"][0]["status"] = "maybe"
    assert not validator.is_valid(bad)


@pytest.mark.parametrize(
    ("mutate", "path"),
    [
        (
            lambda d: d["ballots"]["cast"][0].update(tracking_code="AAAA-AAAA-AAAA-AAAA-AAAA-AAAA"),
            "ballots.cast[0].tracking_code",
        ),
        (lambda d: d["ballots"]["cast"][1].update(status="maybe"), "ballots.cast[1].status"),
        (lambda d: d["ballots"]["cast"][0].update(ballot_key="AAAA"), "ballots.cast[0].ballot_key"),
        (
            lambda d: d["ballots"]["cast"][0].update(
                signature=d["ballots"]["cast"][0]["signature"] + "="
            ),
            "ballots.cast[0].signature",
        ),
        (lambda d: d["ballots"]["cast"][0]["token"].pop("prefix"), "ballots.cast[0].token"),
        (lambda d: d["ballots"]["challenged"][0].pop("log_index"), "ballots.challenged[0]"),
        (
            lambda d: d["eligibility"]["keys"][0].update(variant="other"),
            "eligibility.keys[0].variant",
        ),
        (lambda d: d["eligibility"].update(tokens_issued=[]), "eligibility.tokens_issued"),
        (lambda d: d["log"]["box_frozen"]["payload"].pop("counting"), "log.box_frozen.payload"),
        (lambda d: d["weights"].update(source=""), "weights.source"),
        (lambda d: d.pop("city_signature"), "record"),
    ],
)
def test_strict_loading_names_the_path(election, mutate, path: str) -> None:
    doc: dict[str, Any] = election.copy_document()
    mutate(doc)
    with pytest.raises(record.RecordError) as info:
        record.load_record(doc)
    assert info.value.path == path


def test_canonical_matches_rfc8785(election) -> None:
    for value in (
        election.document["ballots"]["cast"][0],
        {"é": "ü", "a": [1, 2.5, -0.0, 1e21]},
        {"\ue000": 1, "\U0001f600": 2, "x": "\u2028\x7f\x01"},
        {"id": "a:1.5e3"},
    ):
        assert strict_json.canonical(value) == rfc8785.dumps(value)


def test_trustee_program_sums_only_counting_ballots_of_a_v2_record(election) -> None:
    """decrypt-share's own check of the tally (§7 step 6) reads a v2 record too."""
    from civic_votecrypto import trustee  # noqa: PLC0415

    rec = election.record
    doc = election.copy_document()
    assert trustee._check_aggregate("record.json", doc, rec.manifest, rec.tally) == 6
    for entry in doc["ballots"]["cast"]:
        entry["status"] = "counting"  # the superseded ballot smuggled back into the sum
    with pytest.raises(trustee.Rejected, match="ballot_count is 6 but 7"):
        trustee._check_aggregate("record.json", doc, rec.manifest, rec.tally)
