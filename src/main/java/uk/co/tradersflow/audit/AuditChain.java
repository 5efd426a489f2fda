package uk.co.tradersflow.audit;

import io.vertx.core.Future;
import io.vertx.sqlclient.Row;
import java.util.Optional;
import uk.co.tradersflow.platform.db.Db;

/** Re-computes the audit hash chain in the database and reports the first entry that breaks it. */
public final class AuditChain {
    public record Verification(boolean ok, long checked, Optional<Long> firstBrokenId) {}

    private final Db db;

    public AuditChain(Db db) {
        this.db = db;
    }

    public Future<Verification> verify() {
        return db.direct(pool -> pool.query("SELECT ok, checked, first_broken_id FROM audit_verify()")
                        .execute())
                .map(rows -> {
                    Row r = rows.iterator().next();
                    return new Verification(
                            r.getBoolean("ok"),
                            r.getLong("checked"),
                            Optional.ofNullable(r.getLong("first_broken_id")));
                });
    }
}
