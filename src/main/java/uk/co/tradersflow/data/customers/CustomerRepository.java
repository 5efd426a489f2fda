package uk.co.tradersflow.data.customers;

import io.vertx.core.Future;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import java.util.List;
import java.util.UUID;
import uk.co.tradersflow.platform.db.Db;
import uk.co.tradersflow.platform.db.Rows;
import uk.co.tradersflow.platform.db.ScopedRead;
import uk.co.tradersflow.platform.http.PageRequest;

/**
 * Customer SQL. Every statement runs inside {@code Db.inAccount}, or, for the page, through a
 * function that scopes itself ({@code Db.read}), so none of them names the account: row-level
 * security supplies it on reads and checks it on writes.
 */
final class CustomerRepository {
    private static final String COLUMNS = "id, name, email, phone, address, notes, created_at, updated_at";

    private static final ScopedRead PAGE = ScopedRead.of("customer_page", 3, COLUMNS);

    private static final String FIND = "SELECT %s FROM customers WHERE id = $1".formatted(COLUMNS);

    private static final String INSERT =
            """
      INSERT INTO customers (name, email, phone, address, notes)
      VALUES ($1, $2, $3, $4, $5)
      RETURNING %s"""
                    .formatted(COLUMNS);

    // CASE keeps one prepared statement for every PATCH shape: $n+1 says whether to touch field n.
    private static final String UPDATE =
            """
      UPDATE customers SET
        name    = CASE WHEN $2 THEN $3 ELSE name END,
        email   = CASE WHEN $4 THEN $5 ELSE email END,
        phone   = CASE WHEN $6 THEN $7 ELSE phone END,
        address = CASE WHEN $8 THEN $9 ELSE address END,
        notes   = CASE WHEN $10 THEN $11 ELSE notes END,
        updated_at = now()
       WHERE id = $1
      RETURNING %s"""
                    .formatted(COLUMNS);

    private static final String IN_USE =
            """
      SELECT EXISTS (SELECT 1 FROM jobs WHERE customer_id = $1)
          OR EXISTS (SELECT 1 FROM invoices WHERE customer_id = $1) AS in_use""";

    private static final String DELETE = "DELETE FROM customers WHERE id = $1";

    /** A page, newest first, through the function that scopes itself (one statement, no transaction). */
    Future<List<Customer>> list(Db db, UUID accountId, PageRequest page) {
        return db.read(PAGE, accountId, Tuple.of(Rows.utc(page.afterCreatedAt()), page.afterId(), page.fetchSize()))
                .map(rows -> Rows.all(rows, Customer::from));
    }

    Future<Customer> find(SqlConnection tx, UUID id) {
        return tx.preparedQuery(FIND).execute(Tuple.of(id)).map(rows -> Rows.one(rows, Customer::from));
    }

    Future<Customer> insert(SqlConnection tx, CustomerInput in) {
        return tx.preparedQuery(INSERT)
                .execute(Tuple.of(
                        in.name().orElseThrow(),
                        in.email().orElse(null),
                        in.phone().orElse(null),
                        in.address().orElse(null),
                        in.notes().orElse(null)))
                .map(rows -> Rows.one(rows, Customer::from));
    }

    Future<Customer> update(SqlConnection tx, UUID id, CustomerInput in) {
        Tuple args = Tuple.tuple()
                .addUUID(id)
                .addBoolean(in.hasName())
                .addString(in.name().orElse(null))
                .addBoolean(in.hasEmail())
                .addString(in.email().orElse(null))
                .addBoolean(in.hasPhone())
                .addString(in.phone().orElse(null))
                .addBoolean(in.hasAddress())
                .addString(in.address().orElse(null))
                .addBoolean(in.hasNotes())
                .addString(in.notes().orElse(null));
        return tx.preparedQuery(UPDATE).execute(args).map(rows -> Rows.one(rows, Customer::from));
    }

    Future<Boolean> inUse(SqlConnection tx, UUID id) {
        return tx.preparedQuery(IN_USE)
                .execute(Tuple.of(id))
                .map(rows -> rows.iterator().next().getBoolean("in_use"));
    }

    Future<Boolean> delete(SqlConnection tx, UUID id) {
        return tx.preparedQuery(DELETE).execute(Tuple.of(id)).map(rows -> rows.rowCount() == 1);
    }
}
