package uk.co.tradersflow.data.invoices;

import uk.co.tradersflow.audit.AuditLog;
import uk.co.tradersflow.platform.module.Module;
import uk.co.tradersflow.platform.module.Shared;

/** Invoices: the invoice's one owner ({@link InvoiceService}, which billing also uses) and its routes. */
public record InvoiceModule(InvoiceService invoices, Module module) {
    public static InvoiceModule create(Shared shared, AuditLog audit) {
        InvoiceService invoices = new InvoiceService(shared.db(), audit);
        return new InvoiceModule(invoices, Module.routes(new InvoiceRoutes(invoices, shared.clients())));
    }
}
