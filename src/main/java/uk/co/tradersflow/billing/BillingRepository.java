package uk.co.tradersflow.billing;

import io.vertx.core.Future;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import java.util.UUID;

/** The account's own billing row, read and written inside its RLS transaction. */
final class BillingRepository {
    private static final String FIND = "SELECT * FROM billing_accounts WHERE account_id = $1";
    private static final String FIND_FOR_UPDATE = FIND + " FOR UPDATE";
    // Created when the first Stripe object is stored; nothing is written before Stripe answered.
    private static final String ENSURE = "INSERT INTO billing_accounts (account_id) VALUES ($1) ON CONFLICT DO NOTHING";
    private static final String SET_CUSTOMER =
            """
      UPDATE billing_accounts SET stripe_customer_id = $2, updated_at = now()
       WHERE account_id = $1 AND stripe_customer_id IS NULL""";
    private static final String SET_CONNECT =
            """
      UPDATE billing_accounts SET connect_account_id = $2, updated_at = now()
       WHERE account_id = $1 AND connect_account_id IS NULL""";

    Future<BillingAccount> find(SqlConnection tx, UUID account) {
        return tx.preparedQuery(FIND)
                .execute(Tuple.of(account))
                .map(rows -> rows.size() == 0
                        ? BillingAccount.none(account)
                        : BillingAccount.from(rows.iterator().next()));
    }

    /** Creates the row if missing and locks it for the rest of the transaction. */
    Future<BillingAccount> lock(SqlConnection tx, UUID account) {
        return tx.preparedQuery(ENSURE)
                .execute(Tuple.of(account))
                .compose(v -> tx.preparedQuery(FIND_FOR_UPDATE).execute(Tuple.of(account)))
                .map(rows -> BillingAccount.from(rows.iterator().next()));
    }

    /** Stores the customer unless the row has one already; true if this call stored it. */
    Future<Boolean> setCustomer(SqlConnection tx, UUID account, String customerId) {
        return tx.preparedQuery(SET_CUSTOMER)
                .execute(Tuple.of(account, customerId))
                .map(rows -> rows.rowCount() == 1);
    }

    /** Stores the connected account unless the row has one already; true if this call stored it. */
    Future<Boolean> setConnectAccount(SqlConnection tx, UUID account, String connectId) {
        return tx.preparedQuery(SET_CONNECT)
                .execute(Tuple.of(account, connectId))
                .map(rows -> rows.rowCount() == 1);
    }
}
