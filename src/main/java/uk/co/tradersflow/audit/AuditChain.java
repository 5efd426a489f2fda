package uk.co.tradersflow.audit;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.Tuple;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import uk.co.tradersflow.platform.db.Db;

/**
 * Verifies the audit log: re-computes its hash chain page by page, in chain order, and names the
 * first entry that breaks it; then holds the table against the signed checkpoints kept outside
 * the database, which see what a self-consistent chain cannot: its newest entries deleted
 * ({@code truncatedAfter}) or the whole table rewritten with fresh hashes ({@code rewrittenBefore}).
 *
 * <p>Memory stays flat whatever the chain's length: one page ({@value #PAGE} entries) at a time,
 * keyset on {@code seal_seq}. Each entry's hash is recomputed in the database by
 * {@code audit_entry_hash}, the function {@code audit_seal} seals with (V033), so verification
 * cannot drift from sealing; this class checks positions, links and hashes. Requests that arrive
 * while a verification runs share it: an owner pressing the button twice costs one walk.
 */
public final class AuditChain {
    /** Entries per page: about 1 MB of reply, a few tens of milliseconds of the database's time. */
    static final int PAGE = 5000;
    /** Ids per checkpoint lookup, the most {@code audit_chain_entries} takes at once. */
    static final int LOOKUP = 1000;

    static final String CHAIN_PAGE = "SELECT id, seal_seq, prev_hash, hash, recomputed FROM audit_chain_page($1, $2)";
    static final String CHECKPOINT_ENTRIES =
            "SELECT asked, seal_seq, hash, kept_before FROM audit_chain_entries($1::bigint[])";

    private static final String GENESIS = "0".repeat(64);

    /** What the checkpoints said, beside the chain's own verdict. */
    public record CheckpointSummary(
            int verified, int forged, Optional<String> firstForged, Optional<Checkpoint> newest) {
        JsonObject toJson() {
            return new JsonObject()
                    .put("verified", verified)
                    .put("forged", forged)
                    .put("firstForged", firstForged.orElse(null))
                    .put(
                            "newest",
                            newest.map(c -> new JsonObject()
                                            .put("entryId", c.entryId().orElse(null))
                                            .put("entries", c.entries())
                                            .put("takenAt", c.takenAt().toString()))
                                    .orElse(null));
        }
    }

    /**
     * {@code ok} when the chain is whole, no checkpoint is contradicted and none is forged;
     * {@code checked}: entries walked; {@code firstBrokenId}: the first entry whose position, link or
     * hash is wrong; {@code truncatedAfter}: a checkpoint's entry is gone, and this is the last entry
     * kept before it (0: none); {@code rewrittenBefore}: the entry of the earliest checkpoint whose
     * signed hash or position the table no longer has, though present.
     */
    public record Verification(
            boolean ok,
            long checked,
            Optional<Long> firstBrokenId,
            Optional<Long> truncatedAfter,
            Optional<Long> rewrittenBefore,
            CheckpointSummary checkpoints) {
        public JsonObject toJson() {
            return new JsonObject()
                    .put("ok", ok)
                    .put("checked", checked)
                    .put("firstBrokenId", firstBrokenId.orElse(null))
                    .put("truncatedAfter", truncatedAfter.orElse(null))
                    .put("rewrittenBefore", rewrittenBefore.orElse(null))
                    .put("checkpoints", checkpoints.toJson());
        }
    }

    private final Db db;
    private final AuditCheckpoints checkpoints;
    private final AtomicReference<Future<Verification>> running = new AtomicReference<>();

    public AuditChain(Db db, AuditCheckpoints checkpoints) {
        this.db = db;
        this.checkpoints = checkpoints;
    }

    public Future<Verification> verify() {
        Promise<Verification> mine = Promise.promise();
        Future<Verification> current = running.compareAndExchange(null, mine.future());
        if (current != null) {
            return current;
        }
        mine.future().onComplete(ar -> running.compareAndSet(mine.future(), null));
        // Read the checkpoints first: a checkpoint taken during the walk names entries the walk saw.
        checkpoints
                .evidence()
                .compose(evidence -> walk(new Walk()).compose(walk -> compare(evidence, walk)))
                .onComplete(mine);
        return mine.future();
    }

    /** The chain's own check, in pages: what V001's audit_verify() did in one call (dropped by V042). */
    private static final class Walk {
        long checked;
        long lastSeq;
        String prev = GENESIS;
        Long firstBroken;

        void check(Row r) {
            checked++;
            long seq = r.getLong("seal_seq");
            String hash = r.getString("hash");
            boolean whole = seq == checked
                    && prev.equals(r.getString("prev_hash"))
                    && hash != null
                    && hash.equals(r.getString("recomputed"));
            if (!whole && firstBroken == null) {
                firstBroken = r.getLong("id");
            }
            // Past a break, the next entry is judged against what is stored, so one bad entry is named once.
            prev = hash == null ? "" : hash;
            lastSeq = seq;
        }
    }

    private Future<Walk> walk(Walk walk) {
        return db.asWorker(tx -> tx.preparedQuery(CHAIN_PAGE).execute(Tuple.of(walk.lastSeq, PAGE)))
                .compose(rows -> {
                    rows.forEach(walk::check);
                    return rows.size() < PAGE ? Future.succeededFuture(walk) : walk(walk);
                });
    }

    /** Where each checkpoint's entry stands now. */
    private record Found(Long seq, String hash, Long keptBefore) {}

    private Future<Verification> compare(AuditCheckpoints.Evidence evidence, Walk walk) {
        List<Long> ids = evidence.valid().stream()
                .flatMap(c -> c.entryId().stream())
                .distinct()
                .toList();
        Map<Long, Found> found = new HashMap<>();
        Future<Void> lookups = Future.succeededFuture();
        for (int from = 0; from < ids.size(); from += LOOKUP) {
            Long[] chunk =
                    ids.subList(from, Math.min(ids.size(), from + LOOKUP)).toArray(Long[]::new);
            lookups = lookups.compose(
                    v -> db.asWorker(tx -> tx.preparedQuery(CHECKPOINT_ENTRIES).execute(Tuple.of(chunk)))
                            .map(rows -> {
                                record(rows, found);
                                return null;
                            }));
        }
        return lookups.map(v -> verdict(evidence, walk, found));
    }

    private static void record(RowSet<Row> rows, Map<Long, Found> found) {
        for (Row r : rows) {
            found.put(
                    r.getLong("asked"),
                    new Found(r.getLong("seal_seq"), r.getString("hash"), r.getLong("kept_before")));
        }
    }

    private static Verification verdict(AuditCheckpoints.Evidence evidence, Walk walk, Map<Long, Found> found) {
        Long truncatedAfter = null;
        Checkpoint earliestRewrite = null;
        for (Checkpoint c : evidence.valid()) {
            if (c.entryId().isEmpty()) {
                continue; // taken while nothing was sealed: nothing it could contradict
            }
            Found now = found.get(c.entryId().get());
            if (now == null || now.seq() == null) {
                long kept = now == null || now.keptBefore() == null ? 0 : now.keptBefore();
                truncatedAfter = truncatedAfter == null ? kept : Math.min(truncatedAfter, kept);
            } else if (now.seq() != c.entries() || !c.hash().orElse("").equals(now.hash())) {
                if (earliestRewrite == null || c.entries() < earliestRewrite.entries()) {
                    earliestRewrite = c;
                }
            }
        }
        Optional<Long> rewrittenBefore = Optional.ofNullable(earliestRewrite).flatMap(Checkpoint::entryId);
        boolean ok = walk.firstBroken == null
                && truncatedAfter == null
                && rewrittenBefore.isEmpty()
                && evidence.forged() == 0;
        return new Verification(
                ok,
                walk.checked,
                Optional.ofNullable(walk.firstBroken),
                Optional.ofNullable(truncatedAfter),
                rewrittenBefore,
                new CheckpointSummary(
                        evidence.verified(), evidence.forged(), evidence.firstForged(), evidence.newest()));
    }
}
