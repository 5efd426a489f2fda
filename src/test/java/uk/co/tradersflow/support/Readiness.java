package uk.co.tradersflow.support;

import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.client.HttpResponse;

/** What {@code /health/ready} answered. */
public final class Readiness {
    private Readiness() {}

    /** 503 with the database check DOWN: the server says it cannot reach PostgreSQL. */
    public static boolean dbDown(HttpResponse<Buffer> ready) {
        return ready.statusCode() == 503
                && "DOWN"
                        .equals(ready.bodyAsJsonObject()
                                .getJsonObject("checks")
                                .getJsonObject("db")
                                .getString("status"));
    }
}
