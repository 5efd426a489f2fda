package uk.co.tradersflow.audit;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import uk.co.tradersflow.platform.crypto.Es256Jws;
import uk.co.tradersflow.platform.crypto.Sha256;
import uk.co.tradersflow.platform.db.Db;

/**
 * Checkpoints of the audit chain, anchored outside the database: taken (one instance per
 * checkpoint, by a claim in {@code audit_checkpoints}), signed with the server's ES256 key and
 * appended to every sink; and read back, signatures checked, for {@link AuditChain#verify}.
 * Sink reads and writes block, so they run on worker threads.
 */
public final class AuditCheckpoints {
    private static final Logger log = LoggerFactory.getLogger(AuditCheckpoints.class);
    /** The JWS {@code typ} of a checkpoint, so no other document the key signs (an access token) passes for one. */
    static final String JWS_TYPE = "tf-audit-checkpoint";

    static final String CLAIM = "SELECT entry_id, entries, hash, taken_at FROM audit_checkpoint_claim($1, $2)";
    static final String ANCHORED = "SELECT audit_checkpoint_anchored($1)";

    private final Vertx vertx;
    private final Db db;
    private final Es256Jws signer;
    private final List<AnchorSink> sinks;
    private final String instance;
    private final Clock clock;
    /**
     * Lines whose signature held, by a 128-bit digest of their bytes: an ES256 verification costs
     * ~0.5-5 ms here, so re-verifying a year of 5-minute checkpoints (105,000) on every call would
     * take minutes. A line read again byte for byte is known good; anything else is verified.
     * About 70 bytes each, at most {@value #REMEMBERED} of them (then the set starts over).
     */
    private final Set<LineDigest> verifiedLines = java.util.concurrent.ConcurrentHashMap.newKeySet();

    static final int REMEMBERED = 250_000;

    private record LineDigest(long high, long low) {
        static LineDigest of(String text) {
            java.nio.ByteBuffer d = java.nio.ByteBuffer.wrap(Sha256.of(text));
            return new LineDigest(d.getLong(), d.getLong());
        }
    }

    AuditCheckpoints(Vertx vertx, Db db, Es256Jws signer, List<AnchorSink> sinks, String instance, Clock clock) {
        this.vertx = vertx;
        this.db = db;
        this.signer = signer;
        this.sinks = List.copyOf(sinks);
        this.instance = instance;
        this.clock = clock;
    }

    /** Where checkpoints go, for the log line at start. */
    String describeSinks() {
        return sinks.stream().map(AnchorSink::describe).toList().toString();
    }

    /**
     * The checkpoint of the current {@code interval}-long slot of wall-clock time, unless another
     * instance took it already (then empty): with many instances, one checkpoint per slot.
     */
    public Future<Optional<Checkpoint>> takeForSlot(Duration interval) {
        long seconds = interval.toSeconds();
        long slot = clock.instant().getEpochSecond() / seconds * seconds;
        return take("at-" + slot);
    }

    /** A checkpoint of this instance's own, taken as it stops. */
    public Future<Optional<Checkpoint>> takeAtStop() {
        return take("stop-" + clock.millis() + "-" + instance);
    }

    /** Claims {@code key}; if this instance got it, signs the chain's head and appends it to every sink. */
    Future<Optional<Checkpoint>> take(String key) {
        return db.asWorker(tx -> tx.preparedQuery(CLAIM).execute(Tuple.of(key, instance)))
                .compose(rows -> {
                    if (rows.size() == 0) {
                        return Future.succeededFuture(Optional.<Checkpoint>empty());
                    }
                    Row r = rows.iterator().next();
                    Checkpoint c = new Checkpoint(
                            key,
                            instance,
                            Optional.ofNullable(r.getLong("entry_id")),
                            r.getLong("entries"),
                            Optional.ofNullable(r.getString("hash")),
                            r.getOffsetDateTime("taken_at").toInstant());
                    String line = c.line(signer.sign(c.toJson()));
                    return vertx.executeBlocking(
                                    () -> {
                                        for (AnchorSink sink : sinks) {
                                            sink.append(key, line);
                                        }
                                        return c;
                                    },
                                    false)
                            .compose(written -> db.asWorker(
                                            tx -> tx.preparedQuery(ANCHORED).execute(Tuple.of(key)))
                                    .map(done -> Optional.of(written)));
                });
    }

    /**
     * What the sinks hold: every distinct checkpoint whose signature holds (current or retired
     * key) and whose readable fields are the signed ones, and the lines that are not.
     */
    public record Evidence(List<Checkpoint> valid, int verified, int forged, Optional<String> firstForged) {
        /** The newest valid checkpoint, by when it was taken. */
        Optional<Checkpoint> newest() {
            return valid.stream().max(java.util.Comparator.comparing(Checkpoint::takenAt));
        }
    }

    public Future<Evidence> evidence() {
        return vertx.executeBlocking(this::read, false);
    }

    private Evidence read() throws IOException {
        // One entry per distinct claim: a chain idle for a day repeats its head in every checkpoint.
        Map<String, Checkpoint> distinct = new LinkedHashMap<>();
        Set<String> seenKeys = new HashSet<>();
        int[] verified = {0};
        int[] forged = {0};
        List<String> firstForged = new ArrayList<>(1);
        for (AnchorSink sink : sinks) {
            sink.readAll(key -> !seenKeys.contains(key), stored -> {
                Optional<Checkpoint> c = check(stored.text());
                if (c.isEmpty()) {
                    forged[0]++;
                    if (firstForged.isEmpty()) {
                        firstForged.add(stored.source());
                    }
                    return;
                }
                verified[0]++;
                seenKeys.add(c.get().key());
                distinct.putIfAbsent(
                        c.get().entryId().map(String::valueOf).orElse("-") + "/"
                                + c.get().entries() + "/" + c.get().hash().orElse("-"),
                        c.get());
            });
        }
        if (forged[0] > 0) {
            log.warn(
                    "{} audit checkpoint(s) fail their signature check, the first in {}",
                    forged[0],
                    firstForged.get(0));
        }
        return new Evidence(
                List.copyOf(distinct.values()),
                verified[0],
                forged[0],
                firstForged.stream().findFirst());
    }

    /** The checkpoint a stored line holds, if it is one the server signed and nothing beside the signature was altered. */
    Optional<Checkpoint> check(String text) {
        try {
            JsonObject line = new JsonObject(text);
            if (!(line.getValue("jws") instanceof String jws)) {
                return Optional.empty();
            }
            JsonObject readable = line.copy();
            readable.remove("jws");
            LineDigest digest = LineDigest.of(text);
            if (verifiedLines.contains(digest)) {
                return Optional.of(Checkpoint.fromJson(readable));
            }
            Optional<JsonObject> payload = signer.verify(jws);
            if (payload.isEmpty()) {
                return Optional.empty();
            }
            Checkpoint c = Checkpoint.fromJson(payload.get());
            if (!readable.equals(c.toJson())) {
                return Optional.empty();
            }
            if (verifiedLines.size() >= REMEMBERED) {
                verifiedLines.clear();
            }
            verifiedLines.add(digest);
            return Optional.of(c);
        } catch (RuntimeException e) {
            return Optional.empty();
        }
    }
}
