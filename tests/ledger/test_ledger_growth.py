"""Each log's growth on the ledger page: every signed checkpoint (size over time) with its
cosignatures and anchor (ledger.selectors.log_growth, ledger.anchoring.selectors.ledger_growth),
sampled per time bucket for long logs, and the chart and table the page draws from them."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.test import Client

from ledger import selectors as ledger_selectors
from ledger import sequencer, services
from ledger.anchoring import selectors
from ledger.anchoring.models import AnchorTransaction, CheckpointAnchor
from ledger.models import Checkpoint, Log
from tests.ledger.anchor_fixtures import grow_and_witness, make_witness
from tests.ledger.server_fixtures import append_many, ledger_keys  # noqa: F401 (fixture)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("ledger_keys")]
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def sign(log_name: str, count: int, seconds: int) -> Checkpoint:
    append_many(log_name, count, start=seconds * 100)
    sequencer.sequence_all()
    services.sign_checkpoints()
    checkpoint = Checkpoint.objects.filter(log__name=log_name).order_by("-size").first()
    assert checkpoint is not None
    return checkpoint


def anchor(checkpoint: Checkpoint, block: int, state: str = AnchorTransaction.State.FINAL) -> None:
    tx = AnchorTransaction.objects.create(
        chain_id=31337, genesis_hash="0x" + "ab" * 32, contract="0x" + "11" * 20,
        sender="0x" + "22" * 20, nonce=block, tx_hash=f"0x{block:064x}", raw_tx=b"\x00",
        gas=100_000, state=state, block_number=block,
    )  # fmt: skip
    CheckpointAnchor.objects.create(
        transaction=tx, position=0, log=checkpoint.log, checkpoint=checkpoint,
        origin=checkpoint.log.origin, tree_size=checkpoint.size,
        checkpoint_note=checkpoint.note, checkpoint_hash=b"\x00" * 32,
    )  # fmt: skip


@pytest.fixture
def grown(settings: Any) -> Log:
    """The log ``city``: created at T0; size 3 at +10 s (unwitnessed), 5 at +20 s (witnessed and
    anchored), 9 at +30 s (witnessed; its anchor still mined, not final), 12 at +40 s."""
    settings.ANCHOR_RPC_URL = ""  # anchoring off: every recorded anchor counts
    witness = make_witness()
    log = services.ensure_log("city")
    first = sign("city", 3, 10)
    second = grow_and_witness(witness, "city", 2)
    third = grow_and_witness(witness, "city", 4)
    fourth = sign("city", 3, 40)
    Log.objects.filter(pk=log.pk).update(created_at=T0)
    for checkpoint, seconds in ((first, 10), (second, 20), (third, 30), (fourth, 40)):
        Checkpoint.objects.filter(pk=checkpoint.pk).update(
            created_at=T0 + timedelta(seconds=seconds)
        )
    anchor(second, 7)
    anchor(third, 9, AnchorTransaction.State.MINED)
    return Log.objects.get(pk=log.pk)


def test_growth_lists_every_checkpoint_with_witnesses_and_final_anchors(grown: Log) -> None:
    [growth] = selectors.ledger_growth(now=T0 + timedelta(minutes=1))
    assert growth.log == grown and growth.start == T0 and growth.end == T0 + timedelta(minutes=1)
    assert [(p.size, p.witnessed, p.anchored) for p in growth.points] == [
        (3, False, False),
        (5, True, True),
        (9, True, False),
        (12, False, False),
    ]
    assert [p.cosignatures for p in growth.points] == [0, 1, 1, 0]
    assert growth.points[1].anchor == {
        "chain_id": 31337,
        "block_number": 7,
        "transaction_hash": f"0x{7:064x}",
    }
    assert (growth.checkpoints, growth.witnessed, growth.anchored) == (4, 2, 1)
    assert growth.points[-1].size == grown.tree_size


def test_a_long_log_is_sampled_per_bucket_keeping_witnessed_and_anchored_points() -> None:
    def point(i: int, witnessed: bool = False, anchored: bool = False) -> Any:
        return ledger_selectors.GrowthPoint(
            i,
            i * 10,
            T0 + timedelta(seconds=i),
            0,
            witnessed,
            {"block_number": i} if anchored else None,
        )

    rows = [point(i, witnessed=i % 7 == 0, anchored=i in (21, 70)) for i in range(1, 101)]
    sample = ledger_selectors._sample(rows, T0, T0 + timedelta(seconds=100), 10)
    assert len(sample) <= 1 + 3 * 10
    sizes = [p.size for p in sample]
    assert sizes == sorted(sizes) and sizes[0] == 10 and sizes[-1] == 1000
    assert {p.checkpoint_id for p in sample if p.anchored} == {21, 70}
    # each 10-second bucket keeps its latest witnessed checkpoint; 21 and 70 stay as anchored
    latest_witnessed = {7, 14, 28, 35, 49, 56, 63, 77, 84, 98}
    assert {p.checkpoint_id for p in sample if p.witnessed} == latest_witnessed | {21, 70}
    # and its latest checkpoint of all (9, 19, ..., 99; 100 falls in the last bucket)
    assert {9, 19, 29, 39, 49, 59, 69, 79, 89, 100} <= {p.checkpoint_id for p in sample}
    assert ledger_selectors._sample(rows[:5], T0, T0 + timedelta(seconds=5), 10) == rows[:5]


def test_the_ledger_page_draws_each_log_with_markers_a_legend_and_a_table(grown: Log) -> None:
    html = Client().get("/ledger/").content.decode()
    section = html.split('data-log="city"')[1].split("</section>")[0]
    assert 'data-checkpoints="4" data-witnessed="2" data-anchored="1"' in html
    assert section.count('class="chart-mark chart-mark-witnessed"') == 2
    assert section.count('class="chart-mark chart-mark-anchored"') == 1
    assert 'role="img" aria-labelledby="growth-city-title growth-city-desc"' in section
    rows = re.findall(r'<tr data-size="(\d+)" data-witnessed="(\d)" data-anchored="(\d)">', section)
    assert rows == [("3", "0", "0"), ("5", "1", "1"), ("9", "1", "0"), ("12", "0", "0")]
    assert "yes, block 7 of chain 31337" in section
    legend = html.split('id="growth-legend"')[1].split("</ul>")[0]
    assert "Circle: a witnessed checkpoint" in legend and "Square: a checkpoint anchored" in legend
    assert "style=" not in section
