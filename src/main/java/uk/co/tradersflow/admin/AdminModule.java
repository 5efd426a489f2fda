package uk.co.tradersflow.admin;

import uk.co.tradersflow.platform.module.Module;
import uk.co.tradersflow.platform.module.Shared;

/** The owners' admin area, read side: its routes (and the gate on unknown {@code /admin} paths). */
public final class AdminModule {
    private AdminModule() {}

    public static Module create(Shared shared) {
        return Module.routes(
                new AdminRoutes(new AdminService(shared.db(), shared.config().auth(), shared.clock())));
    }
}
