package uk.co.tradersflow.admin.report;

import static io.vertx.core.http.HttpMethod.GET;

import io.vertx.core.Promise;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import uk.co.tradersflow.error.AppError;
import uk.co.tradersflow.error.ErrorCode;
import uk.co.tradersflow.platform.http.Api;
import uk.co.tradersflow.platform.http.ClientInfo;
import uk.co.tradersflow.platform.http.RouteModule;
import uk.co.tradersflow.platform.security.Principal;

/**
 * {@code GET /admin/api/exports/{id}?token=}: a prepared report, downloaded once by the owner it
 * was prepared for, as {@code text/csv} streamed from the database. HEAD answers the same status
 * and headers without spending the download.
 */
public final class ReportRoutes implements RouteModule {
    private static final Logger log = LoggerFactory.getLogger(ReportRoutes.class);

    private final CsvReportService reports;
    private final ClientInfo clients;

    ReportRoutes(CsvReportService reports, ClientInfo clients) {
        this.reports = reports;
        this.clients = clients;
    }

    @Override
    public void mount(Router router, Api api) {
        api.owner(router, GET, CsvReportService.PATH + ":id").handler(this::download);
    }

    private void download(RoutingContext ctx) {
        UUID id = Api.pathId(ctx, "id");
        String token = ctx.queryParams().get("token");
        Principal owner = Principal.of(ctx);
        if (HttpMethod.HEAD.equals(ctx.request().method())) {
            reports.usable(id, token, owner).onComplete(ar -> {
                if (ar.failed()) {
                    ctx.fail(ar.cause());
                } else if (!ar.result()) {
                    ctx.fail(AppError.of(ErrorCode.SIGNED_URL_INVALID, "This download link is not valid"));
                } else {
                    csvHeaders(ctx.response(), "tradersflow-export-" + id + ".csv")
                            .end();
                }
            });
            return;
        }
        reports.claim(id, token, owner, clients.of(ctx)).onComplete(claimed -> {
            if (claimed.failed()) {
                ctx.fail(claimed.cause());
                return;
            }
            CsvReportService.Download d = claimed.result();
            HttpServerResponse response = csvHeaders(ctx.response(), d.filename());
            Promise<Void> gone = Promise.promise();
            response.closeHandler(v -> gone.tryComplete());
            reports.stream(d.report(), response, gone.future()).onComplete(streamed -> {
                if (streamed.succeeded()) {
                    response.end();
                } else if (!gone.future().isComplete()) {
                    // The status is sent: a truncated file must not look complete, so the stream is cut.
                    log.warn(
                            "report export {} failed after {} began: {}",
                            d.exportId(),
                            d.report(),
                            streamed.cause().toString());
                    response.reset();
                }
            });
        });
    }

    private static HttpServerResponse csvHeaders(HttpServerResponse response, String filename) {
        return response.setStatusCode(200)
                .setChunked(true)
                .putHeader("Content-Type", "text/csv; charset=utf-8; header=present")
                .putHeader("Content-Disposition", "attachment; filename=\"" + filename + "\"");
    }
}
