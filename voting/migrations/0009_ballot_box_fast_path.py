"""The ballot box's one-round-trip write on PostgreSQL (voting.services.ballot_box._store_pg).

``voting_store_ballot`` does in one call, in one transaction, what the portable path does in
six statements: upsert the ballot key and keep its row locked, take the key's current cast
ballot out of the count, append the ledger outbox entry (its bytes completed with the
superseded tracking code, its leaf hash SHA-256(0x00 || entry), RFC 9162) and insert the ballot.
Each statement of a PL/pgSQL function takes a fresh snapshot, so after waiting on the key's
lock it sees the ballot the previous holder committed. No log row: it writes nothing and
returns NULLs (the caller creates the log and calls again). SQLite has no such function and
keeps the portable path.
"""

from typing import Any

from django.db import migrations

CREATE = r"""
CREATE OR REPLACE FUNCTION voting_store_ballot(
    p_election_id bigint, p_public_key text, p_kind text, p_ballot_id text, p_token jsonb,
    p_key_signature text, p_document jsonb, p_tracking_code text, p_sha256 text,
    p_received_at timestamptz, p_log_name text, p_event_kind text,
    p_entry_head bytea, p_entry_tail bytea,
    OUT ballot_row_id bigint, OUT outbox_row_id bigint, OUT supersedes_code text
) LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    v_log bigint;
    v_key bigint;
    v_previous bigint;
    v_entry bytea;
BEGIN
    SELECT id INTO v_log FROM ledger_log WHERE name = p_log_name;
    IF v_log IS NULL THEN
        RETURN;
    END IF;
    INSERT INTO voting_ballotkey AS k (election_id, public_key, created_at)
        VALUES (p_election_id, p_public_key, p_received_at)
        ON CONFLICT (election_id, public_key) DO UPDATE SET public_key = EXCLUDED.public_key
        RETURNING k.id INTO v_key;
    IF p_kind = 'cast' THEN
        SELECT id, tracking_code INTO v_previous, supersedes_code
            FROM voting_castballot WHERE ballot_key_id = v_key AND counting;
        IF v_previous IS NOT NULL THEN
            UPDATE voting_castballot SET counting = false WHERE id = v_previous;
        END IF;
    END IF;
    IF p_entry_tail IS NULL THEN
        v_entry := p_entry_head;
    ELSE
        v_entry := p_entry_head
            || convert_to(COALESCE('"' || supersedes_code || '"', 'null'), 'UTF8')
            || p_entry_tail;
    END IF;
    INSERT INTO ledger_outboxentry (log_id, kind, entry, leaf_hash, created_at)
        VALUES (v_log, p_event_kind, v_entry, sha256('\x00'::bytea || v_entry), p_received_at)
        RETURNING id INTO outbox_row_id;
    INSERT INTO voting_castballot (
        election_id, ballot_key_id, kind, ballot_id, token, key_signature, document,
        tracking_code, sha256, received_at, counting, supersedes_id, outbox_id
    ) VALUES (
        p_election_id, v_key, p_kind, p_ballot_id, p_token, p_key_signature, p_document,
        p_tracking_code, p_sha256, p_received_at, p_kind = 'cast', v_previous, outbox_row_id
    ) RETURNING id INTO ballot_row_id;
    -- The one rule again (voting.selectors.elections.election_is_open), after the writes: the
    -- ballot row holds a key-share lock on the election row, so a close that committed meanwhile
    -- is seen here and rolls the cast back, and a close still to come (SELECT ... FOR UPDATE)
    -- waits for this cast to commit. Freezing then counts exactly what is in the box.
    PERFORM 1 FROM voting_election
        WHERE id = p_election_id AND state = 'open'
          AND (opens_at IS NULL OR opens_at <= clock_timestamp())
          AND (closes_at IS NULL OR clock_timestamp() < closes_at);
    IF NOT FOUND THEN
        RAISE EXCEPTION 'election is not open' USING ERRCODE = 'CV001';
    END IF;
END
$$;
"""

DROP = """
DROP FUNCTION IF EXISTS voting_store_ballot(
    bigint, text, text, text, jsonb, text, jsonb, text, text, timestamptz, text, text, bytea, bytea
);
"""


def create(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [
        ("ledger", "0001_initial"),
        ("voting", "0008_tally"),
    ]

    operations = [migrations.RunPython(create, drop)]
