package uk.co.tradersflow.storage;

import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.UUID;

/**
 * The signed URLs that point at {@code /files/…}: issued for a document at the account's current
 * URL epoch, valid until they expire, are altered, or the epoch moves (see {@link SignedUrls}).
 */
public final class DocumentLinks {
    /** A link as handed to a client. */
    public record Link(String url, Instant expiresAt) {
        public JsonObject toJson() {
            return new JsonObject().put("url", url).put("expiresAt", expiresAt.toString());
        }
    }

    /** The parts of a link as it comes back, before anything about them is trusted. */
    public record Presented(UUID account, UUID document, Instant expiresAt, int epoch, String signature) {}

    private final SignedUrls signedUrls;
    private final Duration ttl;
    private final String publicUrl;
    private final Clock clock;

    public DocumentLinks(SignedUrls signedUrls, Duration ttl, URI publicUrl, Clock clock) {
        this.signedUrls = signedUrls;
        this.ttl = ttl;
        this.publicUrl = publicUrl.toString().replaceAll("/+$", "");
        this.clock = clock;
    }

    /** When a link issued now expires (whole seconds: the URL carries epoch seconds). */
    Instant expiryFromNow() {
        return clock.instant().plus(ttl).truncatedTo(ChronoUnit.SECONDS);
    }

    Link issue(UUID account, UUID document, Instant expiresAt, int epoch) {
        String signature = signedUrls.signature(document, account, expiresAt, epoch);
        String url = publicUrl + FileDownloads.path(account, document) + "?expires=" + expiresAt.getEpochSecond()
                + "&v=" + epoch + "&sig=" + signature;
        return new Link(url, expiresAt);
    }

    /** The signature and expiry alone; whether the epoch is still current needs the account row. */
    boolean signed(Presented link) {
        return signedUrls.valid(link.document(), link.account(), link.expiresAt(), link.epoch(), link.signature());
    }
}
