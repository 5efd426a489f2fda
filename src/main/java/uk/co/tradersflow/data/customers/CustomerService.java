package uk.co.tradersflow.data.customers;

import io.vertx.core.Future;
import java.util.List;
import java.util.UUID;
import uk.co.tradersflow.audit.AuditEntry;
import uk.co.tradersflow.audit.AuditLog;
import uk.co.tradersflow.error.AppError;
import uk.co.tradersflow.error.ErrorCode;
import uk.co.tradersflow.platform.db.Db;
import uk.co.tradersflow.platform.http.ClientInfo;
import uk.co.tradersflow.platform.http.PageRequest;
import uk.co.tradersflow.platform.security.Principal;

/**
 * A tradesperson's customers as use cases, callable from the API, the admin area, jobs and tests
 * alike. Every write runs in one account-scoped transaction with its audit entry, so a change and
 * the record of who made it commit together or not at all. {@code caller} is the signed-in user
 * acting (their account scopes everything), {@code client} where the request came from.
 */
public final class CustomerService {
    private final Db db;
    private final AuditLog audit;
    private final CustomerRepository customers = new CustomerRepository();

    public CustomerService(Db db, AuditLog audit) {
        this.db = db;
        this.audit = audit;
    }

    /** A page of the account's customers, newest first. */
    public Future<List<Customer>> list(UUID accountId, PageRequest page) {
        return customers.list(db, accountId, page);
    }

    /** One customer of the account; another account's id is simply not found. */
    public Future<Customer> find(UUID accountId, UUID id) {
        return db.readInAccount(accountId, tx -> customers.find(tx, id));
    }

    public Future<Customer> create(Principal caller, ClientInfo.Client client, CustomerInput input) {
        return db.inAccount(
                caller.accountId(), tx -> customers.insert(tx, input).compose(c -> audit.append(
                                tx, entry(caller, client, "customer.created", c.id()))
                        .map(c)));
    }

    /** Applies the fields the change names, leaving the others as they are. */
    public Future<Customer> update(Principal caller, ClientInfo.Client client, UUID id, CustomerInput change) {
        return db.inAccount(
                caller.accountId(), tx -> customers.update(tx, id, change).compose(c -> audit.append(
                                tx, entry(caller, client, "customer.updated", c.id()))
                        .map(c)));
    }

    /** Refused (409) while jobs or invoices name the customer: deleting would orphan them. */
    public Future<Void> delete(Principal caller, ClientInfo.Client client, UUID id) {
        return db.inAccount(caller.accountId(), tx -> customers
                .find(tx, id)
                .compose(c -> customers.inUse(tx, id))
                .compose(inUse -> inUse
                        ? Future.failedFuture(AppError.of(
                                ErrorCode.CONFLICT, "This customer has jobs or invoices; remove those first"))
                        : customers.delete(tx, id))
                .compose(ok -> audit.append(tx, entry(caller, client, "customer.deleted", id))));
    }

    private static AuditEntry entry(Principal caller, ClientInfo.Client client, String action, UUID customerId) {
        return AuditEntry.byUser(caller, client, action).target("customer", customerId);
    }
}
