package uk.co.tradersflow.data.jobs;

import uk.co.tradersflow.audit.AuditLog;
import uk.co.tradersflow.platform.module.Module;
import uk.co.tradersflow.platform.module.Shared;

/** Jobs: their routes over {@link JobService}. */
public final class JobModule {
    private JobModule() {}

    public static Module create(Shared shared, AuditLog audit) {
        return Module.routes(new JobRoutes(new JobService(shared.db(), audit), shared.clients()));
    }
}
