package uk.co.tradersflow.data.jobs;

import static io.vertx.core.http.HttpMethod.DELETE;
import static io.vertx.core.http.HttpMethod.GET;
import static io.vertx.core.http.HttpMethod.PATCH;
import static io.vertx.core.http.HttpMethod.POST;

import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.util.Locale;
import java.util.Optional;
import java.util.UUID;
import uk.co.tradersflow.data.common.QueryParams;
import uk.co.tradersflow.platform.http.Api;
import uk.co.tradersflow.platform.http.ClientInfo;
import uk.co.tradersflow.platform.http.JsonInput;
import uk.co.tradersflow.platform.http.PageRequest;
import uk.co.tradersflow.platform.http.RouteModule;
import uk.co.tradersflow.platform.security.Principal;

/** {@code /api/v1/jobs}: parses each request, calls {@link JobService}, replies. */
public final class JobRoutes implements RouteModule {
    private final JobService service;
    private final ClientInfo clients;

    public JobRoutes(JobService service, ClientInfo clients) {
        this.clients = clients;
        this.service = service;
    }

    @Override
    public void mount(Router router, Api api) {
        api.authenticated(router, GET, "/api/v1/jobs").handler(this::list);
        api.authenticated(router, POST, "/api/v1/jobs").handler(this::create);
        api.authenticated(router, GET, "/api/v1/jobs/:id").handler(this::read);
        api.authenticated(router, PATCH, "/api/v1/jobs/:id").handler(this::update);
        api.authenticated(router, DELETE, "/api/v1/jobs/:id").handler(this::delete);
    }

    private void list(RoutingContext ctx) {
        PageRequest page = PageRequest.of(ctx);
        Optional<JobStatus> status = QueryParams.status(ctx, JobStatus.class)
                .map(value -> JobStatus.valueOf(value.toUpperCase(Locale.ROOT)));
        Api.reply(
                ctx,
                service.list(Principal.of(ctx).accountId(), page, status),
                200,
                rows -> page.reply(rows, Job::toJson, Job::position));
    }

    private void read(RoutingContext ctx) {
        UUID id = Api.pathId(ctx, "id");
        Api.reply(ctx, service.find(Principal.of(ctx).accountId(), id), 200, Job::toJson);
    }

    private void create(RoutingContext ctx) {
        JobInput input = JobInput.forCreate(JsonInput.of(ctx));
        Api.reply(ctx, service.create(Principal.of(ctx), clients.of(ctx), input), 201, Job::toJson);
    }

    private void update(RoutingContext ctx) {
        UUID id = Api.pathId(ctx, "id");
        JobInput change = JobInput.forPatch(JsonInput.of(ctx));
        Api.reply(ctx, service.update(Principal.of(ctx), clients.of(ctx), id, change), 200, Job::toJson);
    }

    private void delete(RoutingContext ctx) {
        UUID id = Api.pathId(ctx, "id");
        Api.noContent(ctx, service.delete(Principal.of(ctx), clients.of(ctx), id));
    }
}
