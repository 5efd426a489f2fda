package uk.co.tradersflow.console;

import com.github.mustachejava.DefaultMustacheFactory;
import com.github.mustachejava.Mustache;
import com.github.mustachejava.MustacheFactory;
import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.RoutingContext;
import java.io.StringWriter;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import uk.co.tradersflow.platform.http.HashedAsset;

/**
 * The console's templates (Mustache, as the emails) and its two static files, all read once at
 * construction (off the event loop). Pages go out with the console's CSP: scripts and styles
 * from this origin only, nothing inline, no framing, forms posted here only.
 */
final class ConsolePages {
    static final String CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
            + "connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'";
    private static final String HTML = "text/html; charset=utf-8";
    private static final List<String> TEMPLATES =
            List.of("sign-in", "accounts", "account", "audit", "analytics", "emails", "webhooks", "message");

    private final HashedAsset script = asset("console", "js", "text/javascript; charset=utf-8");
    private final HashedAsset stylesheet = asset("console", "css", "text/css; charset=utf-8");
    private final Map<String, Mustache> templates = new ConcurrentHashMap<>();

    ConsolePages() {
        MustacheFactory factory = new DefaultMustacheFactory("console");
        for (String name : TEMPLATES) {
            templates.put(name, factory.compile(name + ".html.mustache"));
        }
    }

    Buffer render(String template, Map<String, Object> model) {
        Map<String, Object> m = new LinkedHashMap<>(model);
        m.put("script", script.path());
        m.put("stylesheet", stylesheet.path());
        StringWriter out = new StringWriter();
        templates.get(template).execute(out, m);
        return Buffer.buffer(out.toString());
    }

    Buffer signIn(Optional<String> error, String email) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("title", "Sign in");
        m.put("email", email);
        error.ifPresent(e -> m.put("error", e));
        return render("sign-in", m);
    }

    /** The refusal of a signed-in user who is neither owner nor support: no data, a way out. */
    Buffer notOwner(String csrf) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("title", "Not an owner");
        m.put("detail", "This console is for TradersFlow owners and support staff only.");
        m.put("csrf", csrf);
        m.put("signOutOnly", !csrf.isEmpty());
        return render("message", m);
    }

    Buffer message(RoutingContext ctx, String title, String detail) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("title", title);
        m.put("detail", detail);
        ConsoleCookie.Value v = ctx.get(ConsoleRoutes.SESSION_KEY);
        if (v != null) {
            m.put("csrf", v.csrf());
            m.put("signOutOnly", true);
        }
        return render("message", m);
    }

    void send(RoutingContext ctx, int status, Buffer html) {
        ctx.response()
                .setStatusCode(status)
                .putHeader("Content-Type", HTML)
                .putHeader("Content-Security-Policy", CSP)
                // Not the API's no-referrer: under it Chromium posts forms with "Origin: null",
                // and the Origin check needs the real one. Other sites still learn nothing.
                .putHeader("Referrer-Policy", "same-origin")
                .putHeader("Cache-Control", "no-store")
                .end(html);
    }

    void asset(RoutingContext ctx) {
        String path = ctx.normalizedPath();
        HashedAsset a = path.equals(script.path()) ? script : path.equals(stylesheet.path()) ? stylesheet : null;
        if (a == null) {
            send(ctx, 404, Buffer.buffer("Not found"));
            return;
        }
        ctx.response()
                .putHeader("Content-Type", a.contentType())
                // The name carries a hash of the content, so a new release is a new name.
                .putHeader("Cache-Control", "public, max-age=31536000, immutable")
                .end(a.body());
    }

    private static HashedAsset asset(String name, String extension, String contentType) {
        return HashedAsset.load("console/static/", "/admin/assets/", name, extension, contentType);
    }
}
