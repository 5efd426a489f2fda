package uk.co.tradersflow.storage;

import static io.vertx.core.http.HttpMethod.DELETE;
import static io.vertx.core.http.HttpMethod.GET;
import static io.vertx.core.http.HttpMethod.POST;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Locale;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import uk.co.tradersflow.audit.AuditEntry;
import uk.co.tradersflow.platform.security.Principal;
import uk.co.tradersflow.error.AppError;
import uk.co.tradersflow.error.ErrorCode;
import uk.co.tradersflow.platform.http.Api;
import uk.co.tradersflow.platform.http.PageRequest;
import uk.co.tradersflow.platform.http.RouteModule;

/**
 * {@code /api/v1/documents}: job photos and documents (upload, list, delete, signed URL), and
 * {@code /files/…}, where signed URLs point: it needs no bearer token, only a signature that
 * holds, an expiry not passed, and an account whose URL epoch has not moved since.
 */
public final class DocumentRoutes implements RouteModule {
  private static final Logger log = LoggerFactory.getLogger(DocumentRoutes.class);
  /** Multipart framing (boundaries, part headers, a jobId field) on top of the file itself. */
  static final long MULTIPART_ALLOWANCE = 64 * 1024;

  private final DocumentService service;
  private final SignedUrls signedUrls;
  private final Duration urlTtl;
  private final String publicUrl;
  private final Clock clock;
  private final FileDownloads downloads;
  private Api api;

  public DocumentRoutes(DocumentService service, SignedUrls signedUrls, Duration urlTtl, URI publicUrl, Clock clock) {
    this.service = service;
    this.signedUrls = signedUrls;
    this.urlTtl = urlTtl;
    this.publicUrl = publicUrl.toString().replaceAll("/+$", "");
    this.clock = clock;
    this.downloads = new FileDownloads(service, signedUrls);
  }

  @Override
  public void mount(Router router, Api api) {
    this.api = api;
    api.authenticatedStream(router, POST, "/api/v1/documents").handler(this::upload);
    api.authenticated(router, GET, "/api/v1/documents").handler(this::list);
    api.authenticated(router, DELETE, "/api/v1/documents/:id").handler(this::delete);
    api.authenticated(router, GET, "/api/v1/documents/:id/url").handler(this::signedUrl);
    router.get(FileDownloads.PATH).handler(downloads::serve);
  }

  private void upload(RoutingContext ctx) {
    String type = ctx.request().getHeader("Content-Type");
    if (type == null || !type.toLowerCase(Locale.ROOT).startsWith("multipart/form-data")) {
      ctx.fail(AppError.of(ErrorCode.UNSUPPORTED_MEDIA_TYPE, "Send the file as multipart/form-data, in a part named \"file\""));
      return;
    }
    String length = ctx.request().getHeader("Content-Length");
    if (length != null && length.chars().allMatch(Character::isDigit) && length.length() < 19
        && Long.parseLong(length) > service.maxBytes() + MULTIPART_ALLOWANCE) {
      // Refused before a byte of the body is read (and before 100-continue invites it).
      ctx.fail(service.tooLarge());
      return;
    }
    new DocumentUpload(service, ctx, api.clients().of(ctx)).start();
  }

  private void list(RoutingContext ctx) {
    PageRequest page = PageRequest.of(ctx);
    UUID jobId = jobFilter(ctx);
    Api.reply(ctx, service.db().readInAccount(Principal.of(ctx).accountId(), tx -> service.repository().list(tx, page, jobId)),
        200, docs -> page.reply(docs, Document::toJson, Document::position));
  }

  private static UUID jobFilter(RoutingContext ctx) {
    String value = ctx.request().getParam("jobId");
    if (value == null || value.isEmpty()) {
      return null;
    }
    try {
      return UUID.fromString(value);
    } catch (IllegalArgumentException e) {
      throw AppError.of(ErrorCode.MALFORMED_REQUEST, "jobId must be a job id");
    }
  }

  /**
   * The row goes first, and with it the file's data key (crypto-shredding): from the commit on,
   * the bytes are unreadable wherever they are. The blob is then removed at once; if that fails,
   * its storage_garbage row, written in the same transaction, has the sweeper retry.
   */
  private void delete(RoutingContext ctx) {
    UUID id = Api.pathId(ctx, "id");
    Principal me = Principal.of(ctx);
    Future<BlobId> deleted = service.db().inAccount(me.accountId(), tx -> service.repository().delete(tx, id)
        .compose(blobName -> service.repository().expectGarbage(tx, blobName, Duration.ZERO)
            .compose(v -> service.audit().append(tx, AuditEntry.byUser(me, api.clients().of(ctx), "document.deleted")
                .target("document", id)))
            .map(v -> new BlobId(me.accountId(), blobName))));
    Future<Void> removed = deleted.compose(blob -> service.workers().<Void>executeBlocking(() -> {
          service.blobs().delete(blob);
          return null;
        }, false)
        .compose(v -> service.db().inAccount(me.accountId(), tx -> service.repository().forgetGarbage(tx, blob.name())))
        .<Void>mapEmpty()
        .recover(e -> {
          log.warn("document {} deleted; its bytes will be removed by the sweeper: {}", id, e.toString());
          return Future.succeededFuture();
        }));
    Api.noContent(ctx, removed);
  }

  private void signedUrl(RoutingContext ctx) {
    UUID id = Api.pathId(ctx, "id");
    UUID account = Principal.of(ctx).accountId();
    Instant expiresAt = clock.instant().plus(urlTtl).truncatedTo(java.time.temporal.ChronoUnit.SECONDS);
    Api.reply(ctx, service.db().readInAccount(account, tx -> service.repository().urlEpoch(tx, id)), 200, epoch -> {
      String signature = signedUrls.signature(id, account, expiresAt, epoch);
      String url = publicUrl + FileDownloads.path(account, id) + "?expires=" + expiresAt.getEpochSecond() + "&v=" + epoch
          + "&sig=" + signature;
      return new JsonObject().put("url", url).put("expiresAt", expiresAt.toString());
    });
  }

}
