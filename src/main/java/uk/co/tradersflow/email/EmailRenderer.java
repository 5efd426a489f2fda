package uk.co.tradersflow.email;

import com.github.mustachejava.DefaultMustacheFactory;
import com.github.mustachejava.Mustache;
import com.github.mustachejava.MustacheFactory;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.StringWriter;
import java.io.Writer;
import java.math.BigDecimal;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Renders a template's subject, HTML and plain-text parts with Mustache. The HTML factory
 * escapes every {{value}} (a customer called {@code <script>} arrives as text); the text and
 * subject factory does not escape, since there is no markup to break. Templates are compiled
 * once, at construction, which reads the classpath: construct it off the event loop.
 */
public final class EmailRenderer {
    public record Rendered(String subject, String html, String text) {}

    private record Parts(Mustache subject, Mustache html, Mustache text) {}

    private final Map<EmailTemplate, Parts> templates = new EnumMap<>(EmailTemplate.class);
    private final String publicUrl;

    public EmailRenderer(String publicUrl) {
        this.publicUrl = publicUrl.replaceAll("/+$", "");
        MustacheFactory html = new DefaultMustacheFactory("email/templates");
        MustacheFactory plain = new DefaultMustacheFactory("email/templates") {
            @Override
            public void encode(String value, Writer writer) {
                try {
                    // Plain text and subjects: no HTML escaping, but never a line break inside a value
                    // (a subject with CR/LF would inject headers; a text line could fake a footer).
                    writer.write(value.replaceAll("[\\r\\n]+", " "));
                } catch (IOException e) {
                    throw new IllegalStateException(e);
                }
            }
        };
        for (EmailTemplate t : EmailTemplate.values()) {
            templates.put(
                    t,
                    new Parts(
                            plain.compile(t.id() + ".subject.mustache"),
                            html.compile(t.id() + ".html.mustache"),
                            plain.compile(t.id() + ".txt.mustache")));
        }
    }

    public Rendered render(EmailTemplate template, JsonObject model) {
        Map<String, Object> scope = scope(model);
        Parts parts = templates.get(template);
        return new Rendered(run(parts.subject(), scope).strip(), run(parts.html(), scope), run(parts.text(), scope));
    }

    private Map<String, Object> scope(JsonObject model) {
        Map<String, Object> scope = new HashMap<>(toMap(model));
        scope.put("publicUrl", publicUrl);
        money(scope, "amountPence", "amount");
        money(scope, "totalPence", "total");
        if (scope.get("lines") instanceof List<?> lines) {
            for (Object line : lines) {
                if (line instanceof Map<?, ?> map) {
                    @SuppressWarnings("unchecked")
                    Map<String, Object> m = (Map<String, Object>) map;
                    money(m, "unitPence", "unit");
                }
            }
        }
        return scope;
    }

    /** Pence as pounds with two decimals, e.g. 12345 → "123.45". */
    private static void money(Map<String, Object> scope, String penceKey, String key) {
        if (scope.get(penceKey) instanceof Number pence) {
            scope.put(key, BigDecimal.valueOf(pence.longValue(), 2).toPlainString());
        }
    }

    private static Map<String, Object> toMap(JsonObject json) {
        Map<String, Object> out = new HashMap<>();
        json.forEach(e -> out.put(e.getKey(), plain(e.getValue())));
        return out;
    }

    private static Object plain(Object value) {
        if (value instanceof JsonObject o) {
            return toMap(o);
        }
        if (value instanceof JsonArray a) {
            return a.stream().map(EmailRenderer::plain).toList();
        }
        return value;
    }

    private static String run(Mustache mustache, Map<String, Object> scope) {
        StringWriter out = new StringWriter();
        mustache.execute(out, scope);
        return out.toString();
    }
}
