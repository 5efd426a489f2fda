package uk.co.tradersflow.support;

import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.Json;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.impl.ClientPhase;
import io.vertx.ext.web.client.impl.HttpContext;
import io.vertx.ext.web.client.impl.WebClientInternal;
import io.vertx.json.schema.Draft;
import io.vertx.json.schema.JsonSchema;
import io.vertx.json.schema.JsonSchemaOptions;
import io.vertx.json.schema.OutputFormat;
import io.vertx.json.schema.OutputUnit;
import io.vertx.json.schema.Validator;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/**
 * Checks every response the tests receive from the server against {@code openapi.yaml}: the
 * path and method are described, the status is one the operation lists (an error status may
 * fall under {@code 4XX}/{@code 5XX} or {@code default}), the content type is one it lists, and
 * a JSON body validates against the schema. Installed on {@link TestServer}'s HTTPS client, so
 * the document cannot drift from what the server answers without a test class failing.
 *
 * <p>Not checked: {@code OPTIONS} (CORS preflights are the protocol's, not operations), and
 * paths the document does not describe when the answer is the generic 404/405 problem.
 */
public final class OpenApiResponseCheck {
    private static final List<String> violations = new ArrayList<>();
    private static final JsonObject doc = load();
    private static final List<PathTemplate> paths = templates(doc);
    private static final Map<String, Validator> validators = new ConcurrentHashMap<>();

    private record PathTemplate(String template, Pattern pattern, int variables) {}

    private OpenApiResponseCheck() {}

    /** Adds the check to a client that talks to the server on {@code port}. */
    public static void install(WebClient client, int port) {
        ((WebClientInternal) client).addInterceptor((Handler<HttpContext<?>>) ctx -> {
            if (ctx.phase() == ClientPhase.DISPATCH_RESPONSE && ctx.request().port() == port) {
                Object body = ctx.response().body();
                Buffer raw = body instanceof Buffer b ? b : null;
                String path = ctx.request().uri().split("\\?", 2)[0];
                check(
                                ctx.request().method().name(),
                                path,
                                ctx.response().statusCode(),
                                ctx.response().getHeader("Content-Type"),
                                raw,
                                body != null && raw == null)
                        .ifPresent(OpenApiResponseCheck::record);
            }
            ctx.next();
        });
    }

    private static synchronized void record(String violation) {
        violations.add(violation);
    }

    /** All violations recorded so far in this JVM; a server's close compares before and after. */
    public static synchronized List<String> violations() {
        return List.copyOf(violations);
    }

    /**
     * One response against the document; the violation, if any.
     *
     * @param bodyNotBuffered the test decoded the body itself (a stream, a file): its bytes are not checked
     */
    static Optional<String> check(
            String method, String path, int status, String contentType, Buffer body, boolean bodyNotBuffered) {
        String what = method + " " + path + " -> " + status;
        if (method.equals("OPTIONS")) {
            return Optional.empty();
        }
        Optional<PathTemplate> template =
                paths.stream().filter(t -> t.pattern().matcher(path).matches()).findFirst();
        JsonObject pathItem = template.map(t -> doc.getJsonObject("paths").getJsonObject(t.template()))
                .orElse(null);
        String docMethod = method.equals("HEAD") && pathItem != null && !pathItem.containsKey("head")
                ? "get"
                : method.toLowerCase(Locale.ROOT);
        JsonObject operation = pathItem == null ? null : pathItem.getJsonObject(docMethod);
        if (operation == null) {
            // Unknown paths and methods get the generic problem, which the document cannot list per path.
            if ((status == 404 || status == 405) && (method.equals("HEAD") || isProblem(contentType, body))) {
                return Optional.empty();
            }
            return Optional.of(what + ": "
                    + (pathItem == null ? "the path is not in the document" : "the method is not in the document"));
        }
        String operationName =
                docMethod.toUpperCase(Locale.ROOT) + " " + template.get().template();
        JsonObject responses = operation.getJsonObject("responses", new JsonObject());
        String key = responses.containsKey(Integer.toString(status))
                ? Integer.toString(status)
                : responses.containsKey(status / 100 + "XX")
                        ? status / 100 + "XX"
                        : status >= 400 && responses.containsKey("default") ? "default" : null;
        if (key == null) {
            return Optional.of(what + ": status " + status + " is not among " + operationName + "'s responses "
                    + responses.fieldNames());
        }
        JsonObject response = resolve(responses.getJsonObject(key));
        JsonObject content = response.getJsonObject("content");
        boolean empty = body == null || body.length() == 0;
        if (method.equals("HEAD") || status == 204 || status == 304 || bodyNotBuffered && !empty) {
            return Optional.empty();
        }
        if (content == null || content.isEmpty()) {
            return empty
                    ? Optional.empty()
                    : Optional.of(what + ": the document describes no body, the server sent " + contentType);
        }
        String mediaType =
                contentType == null ? "" : contentType.split(";", 2)[0].trim().toLowerCase(Locale.ROOT);
        String mediaKey = content.fieldNames().stream()
                .filter(k -> k.split(";", 2)[0].trim().toLowerCase(Locale.ROOT).equals(mediaType))
                .findFirst()
                .orElse(content.containsKey("*/*") ? "*/*" : null);
        if (mediaKey == null) {
            return Optional.of(what + ": content type " + contentType + " is not among " + content.fieldNames());
        }
        JsonObject schema = content.getJsonObject(mediaKey).getJsonObject("schema");
        if (schema == null || !(mediaType.equals("application/json") || mediaType.endsWith("+json"))) {
            return Optional.empty();
        }
        Object json;
        try {
            json = Json.decodeValue(body == null ? Buffer.buffer() : body);
        } catch (RuntimeException e) {
            return Optional.of(what + ": the body is not JSON: " + e.getMessage());
        }
        String schemaKey = operationName + " " + key + " " + mediaKey;
        OutputUnit result =
                validatorOf(schemaKey, () -> (JsonObject) inline(schema)).validate(json);
        if (Boolean.TRUE.equals(result.getValid())) {
            return Optional.empty();
        }
        StringBuilder why = new StringBuilder();
        (result.getErrors() == null ? List.<OutputUnit>of() : result.getErrors())
                .stream().limit(5).forEach(e -> why.append("\n    ")
                        .append(e.getInstanceLocation())
                        .append(": ")
                        .append(e.getError())
                        .append(" (")
                        .append(e.getKeywordLocation())
                        .append(')'));
        String shown = body.length() > 600 ? body.getString(0, 600) + "…" : body.toString();
        return Optional.of(
                what + ": the body does not match " + operationName + " " + key + why + "\n    body: " + shown);
    }

    /** The validator for {@code schema}, made once per key (draft 2020-12, the document's own base). */
    private static Validator validatorOf(String key, java.util.function.Supplier<JsonObject> schema) {
        return validators.computeIfAbsent(
                key,
                k -> Validator.create(
                        JsonSchema.of(schema.get()),
                        new JsonSchemaOptions()
                                .setDraft(Draft.DRAFT202012)
                                .setBaseUri("app:///")
                                .setOutputFormat(OutputFormat.Basic)));
    }

    /** The document's component schema {@code name} (say {@code Invoice}), every reference in it followed. */
    public static JsonObject component(String name) {
        return (JsonObject) inline(pointer("#/components/schemas/" + name));
    }

    /**
     * What is wrong with {@code json} (a decoded object, array or scalar) as an instance of the
     * component schema {@code name}: empty when it validates.
     */
    public static List<String> violationsOf(String name, Object json) {
        OutputUnit result =
                validatorOf("component " + name, () -> component(name)).validate(json);
        if (Boolean.TRUE.equals(result.getValid())) {
            return List.of();
        }
        List<String> why = new ArrayList<>();
        (result.getErrors() == null ? List.<OutputUnit>of() : result.getErrors())
                .forEach(e ->
                        why.add(e.getInstanceLocation() + ": " + e.getError() + " (" + e.getKeywordLocation() + ")"));
        return why.isEmpty() ? List.of("does not match " + name) : why;
    }

    private static boolean isProblem(String contentType, Buffer body) {
        return contentType != null
                && contentType.startsWith("application/problem+json")
                && body != null
                && body.length() > 0;
    }

    /** A {@code $ref} to a component, followed; anything else as it is. */
    private static JsonObject resolve(JsonObject node) {
        while (node.containsKey("$ref")) {
            node = pointer(node.getString("$ref"));
        }
        return node;
    }

    private static JsonObject pointer(String ref) {
        if (!ref.startsWith("#/")) {
            throw new IllegalArgumentException("only local references are supported: " + ref);
        }
        Object node = doc;
        for (String part : ref.substring(2).split("/")) {
            node = ((JsonObject) node).getValue(part.replace("~1", "/").replace("~0", "~"));
        }
        return (JsonObject) node;
    }

    /** The schema with every local {@code $ref} replaced by what it names (the document has no recursive schemas). */
    private static Object inline(Object node) {
        if (node instanceof JsonObject o) {
            if (o.containsKey("$ref")) {
                JsonObject target = ((JsonObject) inline(pointer(o.getString("$ref")))).copy();
                o.forEach(e -> {
                    if (!e.getKey().equals("$ref")) {
                        target.put(e.getKey(), inline(e.getValue()));
                    }
                });
                return target;
            }
            JsonObject copy = new JsonObject();
            o.forEach(e -> copy.put(e.getKey(), inline(e.getValue())));
            return copy;
        }
        if (node instanceof JsonArray a) {
            JsonArray copy = new JsonArray();
            a.forEach(v -> copy.add(inline(v)));
            return copy;
        }
        return node;
    }

    @SuppressWarnings("unchecked")
    private static JsonObject load() {
        try (InputStream in = OpenApiResponseCheck.class.getResourceAsStream("/openapi.yaml")) {
            if (in == null) {
                throw new IllegalStateException("openapi.yaml is not on the class path");
            }
            Map<String, Object> yaml =
                    (Map<String, Object>) new Yaml(new SafeConstructor(new LoaderOptions())).load(in);
            return new JsonObject(Json.encode(yaml));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Literal paths first, then templates with fewer variables: {@code /email/confirm} before {@code /email/{x}}. */
    private static List<PathTemplate> templates(JsonObject doc) {
        return doc.getJsonObject("paths").fieldNames().stream()
                .map(t -> new PathTemplate(
                        t, Pattern.compile(Pattern.quote(t).replaceAll("\\{[^}/]+}", "\\\\E[^/]+\\\\Q")), (int)
                                t.chars().filter(c -> c == '{').count()))
                .sorted(Comparator.comparingInt(PathTemplate::variables))
                .toList();
    }
}
