package uk.co.tradersflow.audit;

import static io.vertx.core.http.HttpMethod.GET;

import io.vertx.ext.web.Router;
import uk.co.tradersflow.platform.http.Api;
import uk.co.tradersflow.platform.http.RouteModule;

/** {@code GET /admin/api/audit/verify}: owners and support (a read) re-verify the audit chain and its checkpoints. */
public final class AuditRoutes implements RouteModule {
    private final AuditChain chain;

    public AuditRoutes(AuditChain chain) {
        this.chain = chain;
    }

    @Override
    public void mount(Router router, Api api) {
        api.owner(router, GET, "/admin/api/audit/verify")
                .handler(ctx -> Api.reply(ctx, chain.verify(), 200, AuditChain.Verification::toJson));
    }
}
