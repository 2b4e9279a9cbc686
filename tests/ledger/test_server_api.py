"""Read side: tlog-tiles endpoints, the JSON API, proofs against the reference, bad input."""

from __future__ import annotations

import base64
import random

import pytest
from django.test import Client

from civic_tlog import merkle, note, tiles
from ledger import sequencer, services
from ledger.models import Log
from tests.ledger.server_fixtures import (  # noqa: F401 (fixture)
    append_many,
    entries_in_order,
    ledger_keys,
)

pytestmark = [pytest.mark.usefixtures("ledger_keys"), pytest.mark.django_db]

SIZE = 600  # two full level-0 tiles, one partial, and a partial level-1 tile


@pytest.fixture
def city(client: Client) -> Log:
    append_many("city", SIZE - 100)
    sequencer.sequence_all()
    services.sign_checkpoints()  # an older checkpoint at SIZE - 100
    append_many("city", 100, start=SIZE - 100)
    sequencer.sequence_all()
    services.sign_checkpoints()
    return Log.objects.get(name="city")


@pytest.fixture
def small(client: Client) -> Log:
    append_many("city", 3)
    sequencer.sequence_all()
    services.sign_checkpoints()
    return Log.objects.get(name="city")


def assert_json_error(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert "error" in body and "detail" in body
    if code is not None:
        assert body["error"] == code
    return body


def test_logs_listing(client: Client, city: Log) -> None:
    body = client.get("/api/ledger/logs").json()
    [summary] = body["logs"]
    assert summary["name"] == "city"
    assert summary["origin"] == "test.civic.example/ledger/city"
    assert summary["tree_size"] == SIZE
    assert summary["root_hash"] == merkle.root_from_entries(entries_in_order(city)).hex()
    assert summary["verifier_key"] == city.verifier_key
    assert summary["witness_threshold"] == 1
    assert summary["observers"] == []
    assert summary["latest_witnessed_size"] is None


def test_checkpoint_is_signed_by_the_log_key(client: Client, city: Log) -> None:
    response = client.get("/ledger/city/checkpoint")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    checkpoint, _ = note.open_checkpoint(response.content.decode(), city.verifier_key, city.origin)
    assert (checkpoint.size, checkpoint.root_hash) == (SIZE, bytes(city.root_hash))


def test_every_tile_and_bundle_matches_a_from_scratch_build(client: Client, city: Log) -> None:
    expected = tiles.build_tiles(entries_in_order(city))
    covering = tiles.tiles_for_size(SIZE, include_entries=True)
    assert {tile.path for tile in covering} == set(expected)
    for path, data in expected.items():
        response = client.get(f"/ledger/city/{path}")
        assert response.status_code == 200, path
        assert response.content == data, path
        immutable = "immutable" in response["Cache-Control"]
        assert immutable == (".p/" not in path)
    # Older partial widths stay readable (clients of an earlier checkpoint ask for them).
    older = tiles.build_tiles(entries_in_order(city)[: SIZE - 100])
    for path in ("tile/0/001.p/244", "tile/entries/001.p/244"):
        assert client.get(f"/ledger/city/{path}").content == older[path]


def test_entry_receipt_and_proofs_equal_the_reference(client: Client, city: Log) -> None:
    leaves = [merkle.leaf_hash(e) for e in entries_in_order(city)]
    for index in [0, 1, 255, 256, 511, 512, SIZE - 1, *random.sample(range(SIZE), 5)]:
        body = client.get(f"/api/ledger/city/entries/{index}").json()
        assert body["index"] == index
        assert body["payload"] == {"n": index}
        assert body["kind"] == "test.event"
        entry = base64.b64decode(body["entry"])
        assert merkle.leaf_hash(entry).hex() == body["leaf_hash"] == leaves[index].hex()
        receipt = body["receipt"]
        assert receipt["tree_size"] == SIZE
        proof = [bytes.fromhex(node) for node in receipt["inclusion_proof"]]
        assert proof == merkle.inclusion_proof(index, leaves)
        checkpoint, _ = note.open_checkpoint(receipt["checkpoint"], receipt["log_verifier_key"])
        assert merkle.verify_inclusion(leaves[index], index, SIZE, proof, checkpoint.root_hash)
        by_hash = client.get(f"/api/ledger/city/entries/by-hash/{body['leaf_hash']}").json()
        assert by_hash == body
    for old, new in [(0, 0), (0, SIZE), (1, 2), (256, 600), (300, 511), (SIZE, SIZE), (7, 513)]:
        body = client.get(f"/api/ledger/city/consistency?old={old}&new={new}").json()
        assert body["old"] == old and body["new"] == new
        proof = [bytes.fromhex(node) for node in body["proof"]]
        assert proof == merkle.consistency_proof(old, leaves[:new])
        assert old == 0 or merkle.verify_consistency(
            old,
            new,
            proof,
            merkle.root_from_leaf_hashes(leaves[:old]),
            merkle.root_from_leaf_hashes(leaves[:new]),
        )


def test_entry_not_yet_checkpointed_has_no_receipt(client: Client, city: Log) -> None:
    services.append("city", "late.event", {})
    sequencer.sequence_all()
    body = client.get(f"/api/ledger/city/entries/{SIZE}").json()
    assert body["kind"] == "late.event"
    assert body["receipt"] is None


@pytest.mark.parametrize(
    "path",
    [
        "tile/0/1",
        "tile/0/0001",
        "tile/00/000",
        "tile/0/x000/000",
        "tile/0/000.p/256",
        "tile/0/000.p/0",
        "tile/0/000.p/007",
        "tile/64/000",
        "tile/-1/000",
        "tile/a/000",
        "tile/0/000.p/",
        "tile/0/000/",
        "tile/entries/x1/000",
        "tile/0/",
    ],
)
def test_malformed_tile_paths_are_400(client: Client, small: Log, path: str) -> None:
    assert_json_error(client.get(f"/ledger/city/{path}"), 400, "malformed_tile_path")


@pytest.mark.parametrize(
    "path",
    [
        "tile/0/000",  # only partial so far
        "tile/0/000.p/4",  # wider than the tree
        "tile/0/001.p/1",
        "tile/1/000",
        "tile/1/000.p/1",
        "tile/2/000.p/1",
        "tile/entries/000",
        "tile/entries/000.p/4",
        "tile/0/x999/x999/x999/x999/x999/x999/x999/999",
        "tile/entries/x999/x999/x999/x999/x999/x999/x999/999",
    ],
)
def test_tiles_beyond_the_tree_are_404(client: Client, small: Log, path: str) -> None:
    assert_json_error(client.get(f"/ledger/city/{path}"), 404, "beyond_tree")


def test_bad_api_requests_are_clear_4xx(client: Client, city: Log) -> None:
    assert_json_error(client.get("/api/ledger/nope/entries/0"), 404, "unknown_log")
    assert_json_error(client.get("/ledger/nope/checkpoint"), 404, "unknown_log")
    assert_json_error(client.get("/ledger/nope/tile/0/000"), 404, "unknown_log")
    assert_json_error(client.get(f"/api/ledger/city/entries/{SIZE}"), 404, "beyond_tree")
    assert_json_error(client.get(f"/api/ledger/city/entries/{1 << 70}"), 404)
    assert_json_error(client.get("/api/ledger/city/entries/by-hash/zz"), 400)
    assert_json_error(client.get(f"/api/ledger/city/entries/by-hash/{'00' * 32}"), 404)
    url = "/api/ledger/city/consistency"
    assert_json_error(client.get(f"{url}?old=1&new={SIZE + 1}"), 404, "beyond_tree")
    assert_json_error(client.get(f"{url}?old=5&new=4"), 422, "invalid_sizes")  # well-formed, out of order
    assert_json_error(client.get(f"{url}?old=-1&new=4"), 400)
    assert_json_error(client.get(f"{url}?old=x&new=4"), 400)
    assert_json_error(client.get(f"{url}?new=4"), 400)
    assert_json_error(client.get(f"{url}?old=1&new={1 << 70}"), 400)
    assert_json_error(client.post("/api/ledger/logs", {}), 405)


def test_log_without_checkpoint_and_empty_log(client: Client) -> None:
    services.ensure_log("election-7")
    assert_json_error(client.get("/ledger/election-7/checkpoint"), 404, "no_checkpoint")
    services.sign_checkpoints()
    text = client.get("/ledger/election-7/checkpoint").content.decode()
    log = Log.objects.get(name="election-7")
    checkpoint, _ = note.open_checkpoint(text, log.verifier_key)
    assert (checkpoint.size, checkpoint.root_hash) == (0, merkle.EMPTY_ROOT)
    assert_json_error(client.get("/ledger/election-7/tile/0/000.p/1"), 404, "beyond_tree")
    body = client.get("/api/ledger/election-7/consistency?old=0&new=0").json()
    assert body["proof"] == []


def test_openapi_schema_documents_the_ledger_api(client: Client) -> None:
    response = client.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    text = response.content.decode()
    for path in [
        "/api/ledger/logs",
        "/api/ledger/{log}/entries/{index}",
        "/api/ledger/{log}/entries/by-hash/{leaf_hash}",
        "/api/ledger/{log}/consistency",
        "/api/ledger/{log}/cosignatures",
        "/api/ledger/observers",
    ]:
        assert path in text, path


def test_public_ledger_page(client: Client, city: Log) -> None:
    response = client.get("/ledger/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "test.civic.example/ledger/city" in page
    assert "not witnessed yet" in page
