package uk.co.tradersflow.data.customers;

import uk.co.tradersflow.audit.AuditLog;
import uk.co.tradersflow.platform.module.Module;
import uk.co.tradersflow.platform.module.Shared;

/** Customers: their routes over {@link CustomerService}. */
public final class CustomerModule {
    private CustomerModule() {}

    public static Module create(Shared shared, AuditLog audit) {
        return Module.routes(new CustomerRoutes(new CustomerService(shared.db(), audit), shared.clients()));
    }
}
