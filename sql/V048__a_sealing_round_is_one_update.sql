-- A sealing round updates its entries in one statement, and the guard compares them by image.
--
-- Every write of the server appends an audit entry, and each entry is written twice: inserted
-- unsealed by the request, then updated by audit_seal (V001) with its place in the chain. The
-- round locked each entry it read (FOR UPDATE: a lock record on the tuple), then updated it with a
-- statement of its own, found again through the primary key; for each updated row the guard
-- trigger built the canonical JSON of the old and the new row to check the content was untouched,
-- on top of the one audit_entry_hash builds for the hash. One round of 20,000 entries sealed
-- 6,694–6,996 entries a second on this machine (load-tests/audit-seal.sh, three rounds).
--
-- Now a round reads its entries once (their tuple ids with them), chains them in order in memory,
-- and writes all their seals with one UPDATE that finds each row by its tuple id; the guard checks
-- the content by comparing the new row's binary image with the old one's, seal columns aside.
-- The same rounds, in alternation with the old function: 10,998–14,169 entries a second. What
-- stays true:
--  * one sealer at a time: the advisory lock is still taken first, and the guard lets nothing
--    but a sealer update an entry, so the rows read do not change or move before the round's
--    UPDATE reaches them. Only someone who bypasses the guard (a superuser replicating, the
--    owner disabling the trigger) could; FOR UPDATE made such a writer wait, now the round finds
--    fewer rows than it read, fails, seals nothing and the next round starts again;
--  * the hashes are the same: each is still audit_entry_hash of the previous hash and the entry
--    as read, in id order, continuing from the chain's head (AuditChainTest verifies them);
--  * the guard is no weaker: `*=` (record image equality) accepts only a row whose every content
--    column holds the very bytes it held, where the canonical text accepted one change: another
--    netmask on the same host (host() drops it). `*=` compares values detoasted, so an entry
--    stored compressed or out of line compares as its bytes. The guard's search_path is pinned
--    now, as audit_seal's is: its row type and operator are not looked up through the caller's.
SET LOCAL ROLE tf_owner;

CREATE OR REPLACE FUNCTION audit_log_guard() RETURNS trigger
  LANGUAGE plpgsql SET search_path = public, pg_temp
  AS $$
  DECLARE
    content audit_log;
  BEGIN
    IF TG_OP = 'UPDATE' AND OLD.seal_seq IS NULL AND NEW.seal_seq IS NOT NULL
       AND current_user = 'tf_owner' THEN
      -- The new row with the old (empty) seal columns: byte for byte the old row, or refused.
      content := NEW;
      content.seal_seq := OLD.seal_seq;
      content.prev_hash := OLD.prev_hash;
      content.hash := OLD.hash;
      IF content *= OLD THEN
        RETURN NEW;
      END IF;
    END IF;
    RAISE EXCEPTION 'audit_log is append-only (% refused)', TG_OP USING ERRCODE = 'insufficient_privilege';
  END $$;

CREATE OR REPLACE FUNCTION audit_seal(p_limit integer DEFAULT 1000) RETURNS integer
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
  AS $$
  DECLARE
    v_prev   text;
    v_seq    bigint;
    v_tids   tid[] := '{}';
    v_seqs   bigint[] := '{}';
    v_prevs  text[] := '{}';
    v_hashes text[] := '{}';
    v_n      integer;
    e        record;
  BEGIN
    IF NOT pg_try_advisory_xact_lock(hashtext('tradersflow.audit_seal')) THEN
      RETURN 0;
    END IF;
    SELECT hash, seal_seq INTO v_prev, v_seq FROM audit_log WHERE seal_seq IS NOT NULL ORDER BY seal_seq DESC LIMIT 1;
    v_prev := coalesce(v_prev, repeat('0', 64));
    v_seq := coalesce(v_seq, 0);
    FOR e IN SELECT a.ctid AS tid, a AS entry FROM audit_log a WHERE a.seal_seq IS NULL ORDER BY a.id LIMIT p_limit LOOP
      v_seq := v_seq + 1;
      v_tids := v_tids || e.tid;
      v_seqs := v_seqs || v_seq;
      v_prevs := v_prevs || v_prev;
      v_prev := audit_entry_hash(v_prev, e.entry);
      v_hashes := v_hashes || v_prev;
    END LOOP;
    UPDATE audit_log a
       SET seal_seq = s.seq, prev_hash = s.prev, hash = s.hash
      FROM unnest(v_tids, v_seqs, v_prevs, v_hashes) AS s(tid, seq, prev, hash)
     WHERE a.ctid = s.tid;
    GET DIAGNOSTICS v_n = ROW_COUNT;
    IF v_n <> cardinality(v_tids) THEN -- only past the guard (see above): seal nothing
      RAISE EXCEPTION 'audit_seal: % of % entries read were found to seal', v_n, cardinality(v_tids);
    END IF;
    RETURN v_n;
  END $$;
