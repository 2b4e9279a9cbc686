"""Ballot box reads: the context a cast is checked against (parsed once per process), the body
limit a manifest implies, receipts, tracking, and turnout from the box and from the log, in all
and over time."""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.models import Count, FloatField, Func, Max, Min, Q
from django.db.models.functions import Floor
from django.utils import timezone
from redis.exceptions import RedisError

from civic import charts
from civic_votecrypto.ballot import ElectionContext
from civic_votecrypto.manifest import ID_MAX, Manifest
from ledger import selectors as ledger_selectors
from ledger.anchoring import receipts as anchoring_receipts
from ledger.models import Entry, Log, OutboxEntry
from voting.models import CastBallot, Election, EligibilityKey
from voting.selectors.elections import crypto_context
from voting.selectors.eligibility import election_keys

logger = logging.getLogger(__name__)

CAST_CONTEXT = b"civic/cast/v1"
SPOIL_CONTEXT = b"civic/spoil/v1"
BALLOT_CAST_EVENT = "ballot.cast"
BALLOT_SPOILED_EVENT = "ballot.spoiled"
# Everything of a cast body but the ballot: ballot_key (43), token (RSA-4096 signature = 683
# base64url characters, prefix 43, key_id 64), signature (86), keys, quotes and some whitespace.
ENVELOPE_BYTES = 4096
TRACKING_CODE_RE = re.compile(r"^[A-Z2-7]{24}$")


def signed_message(context: bytes, slug: str, canonical_document: bytes) -> bytes:
    """What the ballot key signs: ``context || 0x00 || slug || 0x00 || RFC8785(document)``."""
    return context + b"\x00" + slug.encode("utf-8") + b"\x00" + canonical_document


# -- the election a cast names ----------------------------------------------------------------
# What the cast path reads of an election, and nothing more: not the ceremony transcript (large
# JSON, decoded on every load) and without compiling an ORM query each time (a measured part of
# each cast). Any other field still loads on first access, as a deferred field does.
BOX_ELECTION_FIELDS = (
    "id",
    "slug",
    "state",
    "district",
    "opens_at",
    "closes_at",
    "log_name",
    "context",
)


_box_election_sql: dict[str, tuple[str, list[Any]]] = {}


def _box_election_query() -> tuple[str, list[Any]]:
    """The SQL and, per column, the converters the ORM would apply (built once per database)."""
    found = _box_election_sql.get(connection.vendor)
    if found is None:
        quote = connection.ops.quote_name
        table = Election._meta.db_table
        # in the model's field order, which Model.from_db expects
        fields = [f for f in Election._meta.concrete_fields if f.attname in BOX_ELECTION_FIELDS]
        columns = ", ".join(quote(f.column) for f in fields)
        sql = f"SELECT {columns} FROM {quote(table)} WHERE {quote('slug')} = %s"  # noqa: S608 - constant names
        converters = []
        for f in fields:
            col = f.get_col(table)
            converters.append(
                (col, connection.ops.get_db_converters(col) + col.get_db_converters(connection))
            )
        found = _box_election_sql[connection.vendor] = (sql, converters)
    return found


_open_elections: dict[str, tuple[float, Election]] = {}


def box_election_cached(slug: str, ttl: float) -> Election | None:
    """:func:`box_election`, reusing an election read while it was open for ``ttl`` seconds.

    Only open elections are kept, so an opening is seen at once; a close within ``ttl`` is caught
    by the store's own re-check of the one rule inside its transaction (never by this cache)."""
    now = time.monotonic()
    found = _open_elections.get(slug)
    if found is not None and now - found[0] < ttl:
        return found[1]
    election = box_election(slug)
    if election is not None and ttl > 0 and election.state == Election.State.OPEN:
        _open_elections[slug] = (now, election)
    else:
        _open_elections.pop(slug, None)
    return election


def box_election(slug: str) -> Election | None:
    """The election with this slug, loaded with the fields the ballot box reads."""
    sql, converters = _box_election_query()
    with connection.cursor() as cursor:
        cursor.execute(sql, [slug])
        row = cursor.fetchone()
    if row is None:
        return None
    values = []
    for value, (col, functions) in zip(row, converters, strict=True):
        for function in functions:
            value = function(value, col, connection)
        values.append(value)
    return Election.from_db(connection.alias, BOX_ELECTION_FIELDS, values)


# -- the election's context, parsed once -------------------------------------------------------
@dataclass(frozen=True)
class BoxContext:
    ctx: ElectionContext
    max_ballot_bytes: int


_contexts: dict[tuple[int, str], BoxContext] = {}
_contexts_lock = threading.Lock()


def _branch_count(manifest: Manifest) -> tuple[int, int]:
    selections = sum(len(c.options) for c in manifest.contests)
    branches = sum(
        len(c.options) * (c.max_value + 1) + (c.limit[1] - c.limit[0] + 1)
        for c in manifest.contests
    )
    return selections, branches


def max_ballot_bytes(manifest: Manifest) -> int:
    """An upper bound of a ballot of this manifest as JSON, pretty-printed with indentation: every
    field has a fixed length (points 66 hex digits, scalars 64) except the identifiers (<= 128)."""
    selections, branches = _branch_count(manifest)
    ident = ID_MAX + 40  # an identifier, its key, quotes and indentation
    branch = 4 * (66 + 40)
    selection = ident + 2 * (66 + 40) + 80 + 0  # option_id, alpha, beta, the braces
    contest = ident + 120
    return 1024 + len(manifest.contests) * contest + selections * selection + branches * branch


def box_context(election: Election) -> BoxContext:
    """The election's crypto context (points decoded, tables built once) and its body limit."""
    raw = election.context or {}
    key = (election.pk, str(raw.get("extended_hash")))
    found = _contexts.get(key)
    if found is not None:
        return found
    ctx = crypto_context(election)
    found = BoxContext(ctx, max_ballot_bytes(ctx.manifest))
    with _contexts_lock:
        _contexts[key] = found
    return found


_keys: dict[tuple[int, str], dict[str, EligibilityKey]] = {}


def eligibility_key(election: Election, token: Any) -> EligibilityKey | None:
    """The election's RFC 9474 key row that the token's ``key_id`` names, from the election's key
    set read once per process (the set never changes once made: all keys are made together;
    keyed with H_E too, so a re-used row id of a deleted election never finds a stale key)."""
    cache_key = (election.pk, str((election.context or {}).get("extended_hash")))
    found = _keys.get(cache_key)
    if found is None:
        found = {row.key_id: row for row in election_keys(election)}
        if found:
            _keys[cache_key] = found
    key_id = token.get("key_id") if isinstance(token, Mapping) else None
    return found.get(key_id) if isinstance(key_id, str) else None


def token_district(election: Election, token: Any) -> str | None:
    """The district of the key that signed an (authorized) token, for the ballot's log event;
    None for a one-key election (its key's district is blank)."""
    row = eligibility_key(election, token)
    return (row.district or None) if row is not None else None


def cast_body_limit(election: Election, cap: int) -> int:
    """The largest cast (or spoil) body this election's manifest allows, at most ``cap``."""
    if election.context is None:
        return min(cap, ENVELOPE_BYTES)
    ballot = box_context(election).max_ballot_bytes
    # A spoiled ballot adds its seed and choices: at most one small integer per option.
    choices = sum(len(c.options) for c in box_context(election).ctx.manifest.contests) * (
        ID_MAX + 16
    )
    return min(cap, ENVELOPE_BYTES + ballot + choices + 2 * (ID_MAX + 16) * 4)


# -- tracking ------------------------------------------------------------------------------------
def normalize_tracking_code(text: Any) -> str | None:
    """``abcd-efgh-...`` or without dashes, any case -> the canonical grouped form; else None."""
    if not isinstance(text, str) or len(text) > 64:
        return None
    bare = text.replace("-", "").replace(" ", "").upper()
    if not TRACKING_CODE_RE.match(bare):
        return None
    return "-".join(bare[i : i + 4] for i in range(0, 24, 4))


def ballot_by_tracking_code(election: Election, code: Any) -> CastBallot | None:
    normal = normalize_tracking_code(code)
    if normal is None:
        return None
    return (
        CastBallot.objects.select_related("outbox", "supersedes", "superseded_by", "election")
        .filter(election=election, tracking_code=normal)
        .first()
    )


def received_as(election: Election, sha256: str) -> tuple[int, str, str] | None:
    """(row id, ballot key, kind) of a ballot already in the box, without loading documents."""
    return (
        CastBallot.objects.filter(election=election, sha256=sha256)
        .values_list("pk", "ballot_key__public_key", "kind")
        .first()
    )


def ballot_by_sha256(election: Election, sha256: str) -> CastBallot | None:
    return (
        CastBallot.objects.select_related("outbox", "ballot_key")
        .filter(election=election, sha256=sha256)
        .first()
    )


def ballot_status(ballot: CastBallot) -> str:
    """counting | superseded | spoiled."""
    if ballot.kind == CastBallot.Kind.SPOILED:
        return "spoiled"
    return "counting" if ballot.counting else "superseded"


def position(ballot: CastBallot) -> dict[str, Any] | None:
    """The ballot's log index once the sequencer has given its outbox entry one."""
    index = ballot.outbox.entry_index
    return None if index is None else {"index": index}


def cast_receipt(ballot: CastBallot) -> dict[str, Any]:
    """The receipt the cast (or spoil) call answers (docs/protocol.md §13.4)."""
    return receipt(
        ballot.election,
        ballot.tracking_code,
        ballot.sha256,
        ballot_status(ballot),
        ballot.received_at,
        position(ballot),
    )


def receipt(
    election: Election,
    tracking_code: str,
    sha256: str,
    status: str,
    received_at: Any,
    at: dict[str, Any] | None,
) -> dict[str, Any]:
    """The receipt's fields, for a ballot just stored (no row read back) or a stored one."""
    return {
        "election": election.slug,
        "tracking_code": tracking_code,
        "log": election.log_name,
        "ballot_sha256": sha256,
        "status": status,
        "received_at": received_at.isoformat(),
        "position": at,
    }


def tracking_view(ballot: CastBallot) -> dict[str, Any]:
    """What anyone may see of a ballot by its tracking code, with the ledger receipt once a
    checkpoint covers it (inclusion proof, cosigned checkpoint note, the first final anchor)."""
    out = cast_receipt(ballot)
    out["kind"] = ballot.kind
    out["leaf_hash"] = bytes(ballot.outbox.leaf_hash).hex()
    out["supersedes"] = ballot.supersedes.tracking_code if ballot.supersedes_id else None
    later = (
        CastBallot.objects.filter(supersedes=ballot).values_list("tracking_code", flat=True).first()
    )
    out["superseded_by"] = later
    out["witnessed"] = False
    out["ledger_receipt"] = None
    index = ballot.outbox.entry_index
    if index is not None:
        log = Log.objects.get(pk=ballot.outbox.log_id)
        entry = Entry.objects.filter(log=log, index=index).first()
        if entry is not None:
            out["ledger_receipt"] = anchoring_receipts.receipt(log, entry)
            witnessed = ledger_selectors.latest_witnessed_checkpoint(log)
            out["witnessed"] = witnessed is not None and witnessed.size > index
    return out


# -- turnout -------------------------------------------------------------------------------------
def _figures(counting: int, cast: int, spoiled: int) -> dict[str, int]:
    return {"counting": counting, "cast": cast, "superseded": cast - counting, "spoiled": spoiled}


def _by_district(
    election: Election, counts: dict[str | None, tuple[int, int, int]]
) -> list[dict[str, Any]]:
    """One row per key district (all of the election's keys, with zeros), plus any other district
    the counts name; a one-key election has the one row ``district: null``."""
    districts: list[str | None] = [row.district or None for row in election_keys(election)]
    districts += sorted((d for d in counts if d not in districts), key=lambda d: d or "")
    return [{"district": d, **_figures(*counts.get(d, (0, 0, 0)))} for d in districts]


def counting_ballots(election: Election) -> int:
    """Ballot keys with a current ballot (one count on the partial index ``counting``)."""
    return CastBallot.objects.filter(election=election, counting=True).count()


def turnout(election: Election) -> dict[str, Any]:
    """Ballots that count (one per ballot key, the last cast), from the box, in all and per
    district: a ballot's district is its token key's (the box has nothing else to go by), and
    a re-vote under one ballot key always carries the same token, so it stays in its district."""
    keys = {row.key_id: row.district or None for row in election_keys(election)}
    rows = (
        CastBallot.objects.filter(election=election)
        .values("token__key_id")
        .annotate(
            counting=Count("pk", filter=Q(counting=True)),
            cast=Count("pk", filter=Q(kind=CastBallot.Kind.CAST)),
            spoiled=Count("pk", filter=Q(kind=CastBallot.Kind.SPOILED)),
        )
        .order_by()
    )
    counts: dict[str | None, tuple[int, int, int]] = {}
    for row in rows:
        district = keys.get(row["token__key_id"])
        c, k, s = counts.get(district, (0, 0, 0))
        counts[district] = (c + row["counting"], k + row["cast"], s + row["spoiled"])
    total = [sum(v[i] for v in counts.values()) for i in range(3)]
    return {
        "election": election.slug,
        "state": election.state,
        "district": election.district or None,
        **_figures(*total),
        "districts": _by_district(election, counts),
    }


def turnout_from_log(election: Election) -> dict[str, Any]:
    """The same figures recomputed from the election's sequenced log alone, as an observer would:
    every ``ballot.cast`` counts unless a later one names it in ``supersedes``; per district by
    the events' ``district`` (null for a one-key election)."""
    log = Log.objects.filter(name=election.log_name).first()
    counts: dict[str | None, tuple[int, int, int]] = {}
    if log is not None:
        rows = Entry.objects.filter(log=log, kind__in=[BALLOT_CAST_EVENT, BALLOT_SPOILED_EVENT])
        for kind, data in rows.values_list("kind", "entry"):
            payload = json.loads(bytes(data))["payload"]
            district = payload.get("district")
            counting, cast, spoiled = counts.get(district, (0, 0, 0))
            if kind == BALLOT_SPOILED_EVENT:
                spoiled += 1
            else:
                cast += 1
                counting += 1 if payload.get("supersedes") is None else 0
            counts[district] = (counting, cast, spoiled)
    total = [sum(v[i] for v in counts.values()) for i in range(3)]
    return {**_figures(*total), "districts": _by_district(election, counts)}


# -- turnout over time ---------------------------------------------------------------------------
TIMELINE_STATES = (
    Election.State.OPEN,
    Election.State.CLOSED,
    Election.State.TALLYING,
    Election.State.PUBLISHED,
)
TIMELINE_MAX_BUCKETS = 48
CLOSED_EVENT = "election.closed"


class EpochSeconds(Func):
    """A timestamp as seconds since 1970 (fractional), in SQL: PostgreSQL's ``EXTRACT(EPOCH)``,
    SQLite's Julian day arithmetic (Django stores SQLite datetimes as UTC text)."""

    output_field = FloatField()

    def as_sql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        if connection.vendor == "sqlite":
            template = "((julianday(%(expressions)s) - 2440587.5) * 86400.0)"
        else:
            template = "EXTRACT(EPOCH FROM %(expressions)s)::double precision"
        return super().as_sql(compiler, connection, template=template, **extra)


@dataclass(frozen=True)
class TurnoutBucket:
    """Ballots received in ``[start, end)``: ``cast`` (re-votes included, challenged ones not),
    ``new_voters`` (ballot keys casting for the first time), and ``counting``, the ballots that
    count at ``end`` (every ballot key that has cast by then: its last ballot counts)."""

    start: Any
    end: Any
    cast: int
    new_voters: int
    counting: int


@dataclass(frozen=True)
class TurnoutTimeline:
    start: Any
    end: Any
    bucket_seconds: int
    buckets: list[TurnoutBucket]

    @property
    def counting(self) -> int:
        return self.buckets[-1].counting if self.buckets else 0

    @property
    def cast(self) -> int:
        return sum(bucket.cast for bucket in self.buckets)


def closed_at(election: Election) -> Any:
    """When voting ended: the time of the election log's ``election.closed`` entry (an early close
    included), or None before it is written."""
    if not election.log_name:
        return None
    return (
        OutboxEntry.objects.filter(log__name=election.log_name, kind=CLOSED_EVENT)
        .order_by("pk")
        .values_list("created_at", flat=True)
        .first()
    )


def turnout_timeline(
    election: Election, now: Any = None, max_buckets: int = TIMELINE_MAX_BUCKETS
) -> TurnoutTimeline | None:
    """Turnout over time, from the box: from the opening until now (while open) or until voting
    closed (the ``election.closed`` entry, or the closing time when that came first), cut into at most ``max_buckets`` buckets of a nice width (seconds to days, aligned to
    the city's clock), each with the ballots cast in it and the ballots that count at its end.

    One query, grouped by bucket (the bucket of a ballot computed in SQL from its time in epoch
    seconds): its casts, and its first casts of a ballot key (the ones that supersede nothing),
    whose running count is the count of ballots that count. None before the election opens or when it was cancelled."""
    if election.state not in TIMELINE_STATES:
        return None
    now = now or timezone.now()
    ballots = CastBallot.objects.filter(election=election, kind=CastBallot.Kind.CAST)
    span = ballots.aggregate(first=Min("received_at"), last=Max("received_at"))
    start = election.opens_at or span["first"] or now
    if span["first"] is not None and span["first"] < start:
        start = span["first"]
    if election.state == Election.State.OPEN:
        end = min(now, election.closes_at) if election.closes_at else now
    else:  # the box shut at the close, or at the closing time if the close came later
        ends = [t for t in (closed_at(election), election.closes_at) if t is not None]
        end = min(ends) if ends else now
    if span["last"] is not None and span["last"] > end:
        end = span["last"]
    end = max(end, start + timedelta(seconds=1))
    step = charts.nice_time_step((end - start).total_seconds(), max_buckets)
    edges = charts.aligned_edges(start, end, step, ZoneInfo(settings.CIVIC_TIME_ZONE))
    # bucket i >= 1 starts at edges[i]; bucket 0 at the opening, inside the aligned step before
    origin = (edges[1] if len(edges) > 2 else end).timestamp() - step
    last = len(edges) - 2
    rows = (
        ballots.annotate(bucket=Floor((EpochSeconds("received_at") - origin) / step))
        .values("bucket")
        .annotate(cast=Count("pk"), new=Count("pk", filter=Q(supersedes__isnull=True)))
        .order_by()
    )
    cast = [0] * (last + 1)
    new = [0] * (last + 1)
    for row in rows:
        i = min(max(int(row["bucket"]), 0), last)
        cast[i] += row["cast"]
        new[i] += row["new"]
    buckets: list[TurnoutBucket] = []
    running = 0
    for i in range(last + 1):
        running += new[i]
        buckets.append(TurnoutBucket(edges[i], edges[i + 1], cast[i], new[i], running))
    return TurnoutTimeline(start, end, step, buckets)


TIMELINE_CACHE_S = 15


def timeline_cache_key(election: Election) -> str:
    return f"voting:turnout-timeline:{election.pk}:{election.slug}:{election.state}"


def cached_turnout_timeline(election: Election) -> TurnoutTimeline | None:
    """:func:`turnout_timeline` as the pages show it: kept ``TIMELINE_CACHE_S`` seconds per
    election and state in the cache (Redis), so a busy booth costs one grouped scan of the box
    every 15 s, not one per page view (docs/operations.md). A lost cache only costs the scan."""
    if election.state not in TIMELINE_STATES:
        return None
    key = timeline_cache_key(election)
    try:
        found = cache.get(key)
    except (RedisError, OSError) as exc:
        logger.warning("turnout timeline not cached, cache unavailable: %s", exc)
        return turnout_timeline(election)
    if found is not None:
        return found
    found = turnout_timeline(election)
    try:
        cache.set(key, found, TIMELINE_CACHE_S)
    except (RedisError, OSError) as exc:
        logger.warning("turnout timeline not cached, cache unavailable: %s", exc)
    return found
