-- The audit chain verified in pages, and checkpoints of it anchored outside the database.
--
-- audit_verify() walked the whole chain in one call: one statement for a million entries, that
-- the server's 5-second statement budget cut off, and nothing in it says where a long walk has
-- got to. audit_chain_page returns one page of the chain in seal order (keyset on seal_seq, the
-- chain's own order, which is UNIQUE and so indexed), each entry with its hash recomputed by
-- audit_entry_hash from its stored prev_hash and content: the very function audit_seal seals
-- with, so verification cannot drift from sealing. The server checks the links and compares the
-- hashes; no entry content leaves the database through it.
--
-- A chain cannot see its newest entries deleted, or the whole table rewritten with fresh hashes,
-- by someone with superuser rights. So every few minutes one instance takes a checkpoint (the
-- newest sealed entry's id, its hash, the number of sealed entries), signs it with the server's
-- ES256 key and appends it to sinks outside the database. audit_checkpoints is only the index
-- that lets one instance, not all, write a given checkpoint (ON CONFLICT on its key) and tells
-- the metrics when the last one was anchored: the truth is the signed copy in the sink, which
-- verification reads. audit_chain_entries looks up the entries the checkpoints name.
--
-- All of it runs as tf_worker (Db.asWorker): the runtime role tf_app gains no door.
SET LOCAL ROLE tf_owner;

-- The canonical form and the entry hash were declared IMMUTABLE, but to_char and convert_to in
-- them are only STABLE, so PostgreSQL refused to inline them and ran each call through the SQL
-- function executor: 5,000 entries took ~800 ms to hash, against ~150 ms inlined (measured on this
-- machine under load). Declared as what they are, their bodies (and so every hash) unchanged, they
-- are inlined wherever called: here, in audit_seal and in audit_log_guard.
ALTER FUNCTION audit_canonical(audit_log) STABLE;
ALTER FUNCTION audit_entry_hash(text, audit_log) STABLE;

CREATE FUNCTION audit_chain_page(p_after bigint, p_limit integer)
  RETURNS TABLE (id bigint, seal_seq bigint, prev_hash text, hash text, recomputed text)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
  AS $$
    SELECT a.id, a.seal_seq, a.prev_hash, a.hash, audit_entry_hash(a.prev_hash, a)
      FROM audit_log a
     WHERE a.seal_seq > p_after
     ORDER BY a.seal_seq
     LIMIT least(greatest(p_limit, 1), 20000)
  $$;

-- For each id asked: where the entry stands in the chain and its stored hash (nulls when the
-- entry is gone or unsealed) and, only then, the sealed entry with the greatest id below it: where
-- what the table kept ends, for a checkpoint whose entry was deleted (primary-key index, backwards).
CREATE FUNCTION audit_chain_entries(p_ids bigint[])
  RETURNS TABLE (asked bigint, seal_seq bigint, hash text, kept_before bigint)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
  AS $$
    SELECT q.asked, a.seal_seq, a.hash,
           CASE WHEN a.id IS NULL THEN
             (SELECT b.id FROM audit_log b WHERE b.id < q.asked AND b.seal_seq IS NOT NULL ORDER BY b.id DESC LIMIT 1)
           END
      FROM unnest(p_ids[1:1000]) AS q(asked)
      LEFT JOIN audit_log a ON a.id = q.asked AND a.seal_seq IS NOT NULL
  $$;

CREATE TABLE audit_checkpoints (
  key          text PRIMARY KEY CHECK (length(key) <= 200),
  entry_id     bigint,
  entries      bigint NOT NULL,
  hash         text,
  taken_at     timestamptz NOT NULL,
  instance     text NOT NULL CHECK (length(instance) <= 200),
  anchored_at  timestamptz
);
ALTER TABLE audit_checkpoints ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_checkpoints FORCE ROW LEVEL SECURITY;
CREATE POLICY audit_checkpoints_definer ON audit_checkpoints TO tf_owner USING (true);

-- Claims checkpoint p_key for this instance and returns the chain's head as it is committed now
-- (entries 0 and no id when nothing is sealed yet); no row when another instance claimed it.
CREATE FUNCTION audit_checkpoint_claim(p_key text, p_instance text)
  RETURNS TABLE (entry_id bigint, entries bigint, hash text, taken_at timestamptz)
  LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp
  AS $$
    INSERT INTO audit_checkpoints AS c (key, entry_id, entries, hash, taken_at, instance)
    SELECT p_key, h.id, coalesce(h.seal_seq, 0), h.hash, date_trunc('milliseconds', clock_timestamp()), p_instance
      FROM (SELECT 1) one
      LEFT JOIN LATERAL (SELECT a.id, a.seal_seq, a.hash FROM audit_log a
                          WHERE a.seal_seq IS NOT NULL ORDER BY a.seal_seq DESC LIMIT 1) h ON true
    ON CONFLICT (key) DO NOTHING
    RETURNING c.entry_id, c.entries, c.hash, c.taken_at
  $$;

-- The claimed checkpoint reached its sinks.
CREATE FUNCTION audit_checkpoint_anchored(p_key text)
  RETURNS void
  LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp
  AS $$ UPDATE audit_checkpoints SET anchored_at = clock_timestamp() WHERE key = p_key AND anchored_at IS NULL $$;

-- Seconds since any instance last anchored a checkpoint (null: never).
CREATE FUNCTION audit_checkpoint_age()
  RETURNS double precision
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
  AS $$ SELECT extract(epoch FROM clock_timestamp() - max(anchored_at))::double precision FROM audit_checkpoints $$;

REVOKE ALL ON FUNCTION audit_chain_page(bigint, integer), audit_chain_entries(bigint[]),
  audit_checkpoint_claim(text, text), audit_checkpoint_anchored(text), audit_checkpoint_age() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION audit_chain_page(bigint, integer), audit_chain_entries(bigint[]),
  audit_checkpoint_claim(text, text), audit_checkpoint_anchored(text), audit_checkpoint_age() TO tf_worker;
