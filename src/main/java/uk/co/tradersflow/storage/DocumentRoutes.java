package uk.co.tradersflow.storage;

import static io.vertx.core.http.HttpMethod.DELETE;
import static io.vertx.core.http.HttpMethod.GET;
import static io.vertx.core.http.HttpMethod.POST;

import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.util.Locale;
import java.util.Optional;
import java.util.UUID;
import uk.co.tradersflow.error.AppError;
import uk.co.tradersflow.error.ErrorCode;
import uk.co.tradersflow.platform.http.Api;
import uk.co.tradersflow.platform.http.ClientInfo;
import uk.co.tradersflow.platform.http.PageRequest;
import uk.co.tradersflow.platform.http.RouteModule;
import uk.co.tradersflow.platform.security.Principal;

/**
 * {@code /api/v1/documents}: job photos and documents (upload, list, delete, signed URL) over
 * {@link DocumentService}, and {@code /files/…} ({@link FileDownloads}), where signed URLs point:
 * it needs no bearer token, only a signature that holds, an expiry not passed, and an account
 * whose URL epoch has not moved since.
 */
public final class DocumentRoutes implements RouteModule {
    /** Multipart framing (boundaries, part headers, a jobId field) on top of the file itself. */
    static final long MULTIPART_ALLOWANCE = 64 * 1024;

    private final DocumentService service;
    private final FileDownloads downloads;
    private final ClientInfo clients;

    public DocumentRoutes(DocumentService service, ClientInfo clients) {
        this.clients = clients;
        this.service = service;
        this.downloads = new FileDownloads(service);
    }

    @Override
    public void mount(Router router, Api api) {
        api.authenticatedStream(router, POST, "/api/v1/documents").handler(this::upload);
        api.authenticated(router, GET, "/api/v1/documents").handler(this::list);
        api.authenticated(router, DELETE, "/api/v1/documents/:id").handler(this::delete);
        api.authenticated(router, GET, "/api/v1/documents/:id/url").handler(this::link);
        router.get(FileDownloads.PATH).handler(downloads::serve);
    }

    private void upload(RoutingContext ctx) {
        String type = ctx.request().getHeader("Content-Type");
        if (type == null || !type.toLowerCase(Locale.ROOT).startsWith("multipart/form-data")) {
            ctx.fail(AppError.of(
                    ErrorCode.UNSUPPORTED_MEDIA_TYPE,
                    "Send the file as multipart/form-data, in a part named \"file\""));
            return;
        }
        String length = ctx.request().getHeader("Content-Length");
        if (length != null
                && length.chars().allMatch(Character::isDigit)
                && length.length() < 19
                && Long.parseLong(length) > service.maxBytes() + MULTIPART_ALLOWANCE) {
            // Refused before a byte of the body is read (and before 100-continue invites it).
            ctx.fail(service.tooLarge());
            return;
        }
        new DocumentUpload(service, ctx, clients.of(ctx)).start();
    }

    private void list(RoutingContext ctx) {
        PageRequest page = PageRequest.of(ctx);
        Api.reply(
                ctx,
                service.list(Principal.of(ctx).accountId(), page, jobFilter(ctx)),
                200,
                docs -> page.reply(docs, Document::toJson, Document::position));
    }

    private static Optional<UUID> jobFilter(RoutingContext ctx) {
        String value = ctx.request().getParam("jobId");
        if (value == null || value.isEmpty()) {
            return Optional.empty();
        }
        try {
            return Optional.of(UUID.fromString(value));
        } catch (IllegalArgumentException e) {
            throw AppError.of(ErrorCode.MALFORMED_REQUEST, "jobId must be a job id");
        }
    }

    private void delete(RoutingContext ctx) {
        UUID id = Api.pathId(ctx, "id");
        Api.noContent(ctx, service.delete(Principal.of(ctx), clients.of(ctx), id));
    }

    private void link(RoutingContext ctx) {
        UUID id = Api.pathId(ctx, "id");
        Api.reply(ctx, service.link(Principal.of(ctx).accountId(), id), 200, DocumentLinks.Link::toJson);
    }
}
