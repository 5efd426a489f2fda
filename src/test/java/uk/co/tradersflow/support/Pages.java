package uk.co.tradersflow.support;

import static io.vertx.core.http.HttpMethod.GET;
import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import java.util.ArrayList;
import java.util.List;

/** Walking a list route page by page through its cursor, as a client does. */
public final class Pages {
    private Pages() {}

    /**
     * The ids of every item of {@code path} (which may carry a query already), fetched {@code limit}
     * at a time: each page full but the last, and only the last without a {@code nextCursor}.
     */
    public static List<String> ids(TestServer server, String token, String path, int limit) {
        String first = path + (path.contains("?") ? "&" : "?") + "limit=" + limit;
        List<String> ids = new ArrayList<>();
        String cursor = null;
        do {
            HttpResponse<Buffer> r = server.send(GET, cursor == null ? first : first + "&cursor=" + cursor, token);
            assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(200);
            JsonObject page = r.bodyAsJsonObject();
            page.getJsonArray("items").forEach(item -> ids.add(((JsonObject) item).getString("id")));
            cursor = page.getString("nextCursor");
            if (cursor != null) {
                assertThat(page.getJsonArray("items"))
                        .as("a page with a next one is full")
                        .hasSize(limit);
            }
        } while (cursor != null);
        return ids;
    }
}
