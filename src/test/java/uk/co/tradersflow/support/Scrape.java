package uk.co.tradersflow.support;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.client.HttpResponse;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** One read of a running server's {@code /metrics}, with the look-ups tests need. */
public record Scrape(String text) {
    private static final Pattern SAMPLE = Pattern.compile("^([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{[^}]*})?\\s+(\\S+)");

    /**
     * The metric names a fresh server exports after one signed-in request, so the request, pool and
     * Redis meters have samples.
     */
    public static Set<String> namesAfterASignedInRequest() {
        try (TestServer server = TestServer.start()) {
            HttpResponse<Buffer> r = server.send(
                    HttpMethod.GET,
                    "/api/v1/customers",
                    new TestUsers(server).create().token());
            if (r.statusCode() != 200) {
                throw new AssertionError("the signed-in request answered " + r.statusCode() + ": " + r.bodyAsString());
            }
            return of(server).names();
        }
    }

    public static Scrape of(TestServer server) {
        var r = TestServer.await(server.request(HttpMethod.GET, "/metrics").send());
        if (r.statusCode() != 200) {
            throw new IllegalStateException("/metrics answered " + r.statusCode());
        }
        return new Scrape(r.bodyAsString());
    }

    /** The sample lines (no comments) of the family or series {@code name}. */
    public List<String> series(String name) {
        return text.lines()
                .filter(l -> l.startsWith(name + "{") || l.startsWith(name + " "))
                .toList();
    }

    /** The value of the one sample of {@code name} carrying every label given; 0 when there is none. */
    public double value(String name, Map<String, String> labels) {
        return series(name).stream()
                .filter(l ->
                        labels.entrySet().stream().allMatch(e -> l.contains(e.getKey() + "=\"" + e.getValue() + "\"")))
                .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1)))
                .findFirst()
                .orElse(0);
    }

    public double value(String name) {
        return value(name, Map.of());
    }

    public boolean has(String name, Map<String, String> labels) {
        return series(name).stream().anyMatch(l -> labels.entrySet().stream()
                .allMatch(e -> l.contains(e.getKey() + "=\"" + e.getValue() + "\"")));
    }

    /** Every metric name with at least one sample. */
    public Set<String> names() {
        Set<String> names = new TreeSet<>();
        text.lines().filter(l -> !l.startsWith("#")).forEach(l -> {
            Matcher m = SAMPLE.matcher(l);
            if (m.find()) {
                names.add(m.group(1));
            }
        });
        return names;
    }
}
