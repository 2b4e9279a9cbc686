"""Deferred ballot decoding (``record.load_record(defer_ballots=True)``), the record hash from
the entries' bytes, and lazily decoded native points: each must give exactly what the
straightforward path gives (values, errors and their paths, verdicts)."""

from __future__ import annotations

import pickle
from collections.abc import Iterator
from pathlib import Path

import pytest

from civic_votecrypto import group, record, strict_json, verifier
from civic_votecrypto.errors import EncodingError
from civic_votecrypto.group import G, Point
from tests import record_builder as rb


@pytest.fixture(params=["native", "py-ecc"])
def backend(request: pytest.FixtureRequest) -> Iterator[str]:
    with group.use_backend(request.param):
        yield request.param


@pytest.fixture(scope="module")
def election() -> rb.BuiltElection:
    with group.use_backend("native"):
        return rb.standard()


def test_deferred_loading_gives_the_same_record(election: rb.BuiltElection, backend: str) -> None:
    document = strict_json.loads(election.text)
    eager = record.load_record(document)
    deferred = record.load_record(document, defer_ballots=True)
    assert all(isinstance(c, record.DeferredCastBallot) for c in deferred.cast)
    assert deferred == eager and eager == deferred
    assert [c.ballot for c in deferred.cast] == [c.ballot for c in eager.cast]
    assert verifier.verify_record(record.load_record(document, defer_ballots=True), jobs=2).ok


def _off_curve(document: dict) -> dict:
    """ballots.cast[2]'s first alpha moved to a neighbouring x that is not on the curve."""
    selection = document["ballots"]["cast"][2]["ballot"]["contests"][0]["selections"][0]
    alpha = selection["ciphertext"]["alpha"]
    for last in "0123456789abcdef":
        selection["ciphertext"]["alpha"] = alpha[:-1] + last
        try:
            Point.from_hex(selection["ciphertext"]["alpha"])
        except EncodingError:
            return document
    raise AssertionError("no neighbouring x-coordinate is off the curve")


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_deferred_ballot_that_does_not_decode_fails_as_loading_would(
    election: rb.BuiltElection, backend: str, jobs: int
) -> None:
    document = _off_curve(strict_json.loads(election.text))
    with pytest.raises(record.RecordError) as eager:
        record.load_record(document)
    deferred = record.load_record(document, defer_ballots=True)
    with pytest.raises(record.RecordError) as late:
        verifier.verify_record(deferred, jobs=jobs)
    assert late.value.path == eager.value.path == "ballots.cast[2].ballot"
    assert str(late.value) == str(eager.value)


def test_an_unreadable_code_fails_at_load_even_when_deferred(election: rb.BuiltElection) -> None:
    document = strict_json.loads(election.text)
    document["ballots"]["cast"][5]["ballot"]["code"] = "XY"
    for defer in (False, True):
        with pytest.raises(record.RecordError, match=r"ballots\.cast\[5\]\.ballot: code hex"):
            record.load_record(document, defer_ballots=defer)


def test_the_verifier_cli_reports_an_undecodable_ballot_as_unreadable(
    election: rb.BuiltElection, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "record.json"
    path.write_text(strict_json.canonical(_off_curve(election.copy_document())).decode())
    assert verifier.main([str(path), "--jobs", "2", "--backend", "native"]) == 2
    assert "ballots.cast[2].ballot" in capsys.readouterr().err


def test_the_record_hash_from_the_entries_bytes(election: rb.BuiltElection) -> None:
    document = strict_json.loads(election.text)
    loaded = record.load_record(document, defer_ballots=True, hash_record=False)
    assert loaded.record_sha256 is None
    parts = [record.cast_entry_canonical(c, record.ballot_canonical(c.raw)) for c in loaded.cast]
    assert parts == [strict_json.canonical(e) for e in document["ballots"]["cast"]]
    assert record.record_hash_from(document, parts) == record.record_hash(document)
    eager = record.load_record(document)
    assert record.cast_entry_canonical(eager.cast[0]) == parts[0]


def test_lazy_native_points_behave_like_eager_ones() -> None:
    with group.use_backend("native"):
        point = group.base_mul(12345)
        lazy = Point.from_hex(point.hex())
        with pytest.raises(AttributeError):  # no coordinates until someone asks
            object.__getattribute__(lazy, "x")
        assert lazy == point and hash(lazy) == hash(point)
        assert (lazy.x, lazy.y) == (point.x, point.y)
        again = Point.from_hex(point.hex())
        assert pickle.loads(pickle.dumps(again)) == point  # noqa: S301 - our own bytes
        assert Point.from_hex(G.hex()) + lazy == G + point
    with group.use_backend("py-ecc"):  # a lazy point still works after a backend switch
        assert Point.from_hex(point.hex()) == point
        with group.use_backend("native"):
            fresh = Point.from_hex(point.hex())
        assert fresh * 2 == point + point


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("02" + "AB" * 32, "lowercase hex digits only"),
        ("02" + "ab" * 31 + " a", "lowercase hex digits only"),
        ("02" + "zz" * 32, "lowercase hex digits only"),
        ("02" + "ab" * 31, "must be 66 characters"),
        ("05" + "00" * 32, "prefix must be 0x02 or 0x03"),
        ("02" + "ff" * 32, "not reduced mod p"),
    ],
)
def test_point_decoding_errors_are_unchanged(backend: str, text: str, message: str) -> None:
    with pytest.raises(EncodingError, match=message):
        Point.from_hex(text)
