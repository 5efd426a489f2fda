package uk.co.tradersflow.admin.report;

import java.util.List;
import uk.co.tradersflow.audit.AuditLog;
import uk.co.tradersflow.platform.module.Module;
import uk.co.tradersflow.platform.module.Shared;

/** The owners' CSV reports: the service the {@code export_report} admin action calls, and the download route (the service also the owners' console's, which downloads through it). */
public record ReportModule(CsvReportService exports, Module module) {
    public static ReportModule create(Shared shared, AuditLog audit) {
        CsvReportService service = new CsvReportService(
                shared.config().auth(), shared.config().links().publicUrl().toString(), shared.db(), audit);
        return new ReportModule(
                service, new Module(List.of(new ReportRoutes(service, shared.clients())), List.of(), List.of()));
    }
}
