package uk.co.tradersflow.admin;

import java.util.List;
import uk.co.tradersflow.platform.module.Module;
import uk.co.tradersflow.platform.module.Shared;

/**
 * The owners' admin area, read side: its routes (and the gate on unknown {@code /admin} paths),
 * and the job that keeps the analytics figures' summary young.
 */
public final class AdminModule {
    private AdminModule() {}

    public static Module create(Shared shared) {
        AdminService service = new AdminService(shared.db(), shared.config().auth());
        return new Module(
                List.of(new AdminRoutes(service)),
                List.of(Module.Deployment.single(new FiguresRefreshVerticle(service))),
                List.of());
    }
}
