package uk.co.tradersflow.pages;

import com.github.mustachejava.DefaultMustacheFactory;
import com.github.mustachejava.Mustache;
import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.io.StringWriter;
import java.util.Map;
import uk.co.tradersflow.platform.http.Api;
import uk.co.tradersflow.platform.http.HashedAsset;
import uk.co.tradersflow.platform.http.RouteModule;

/**
 * The pages behind the links in emails ({@code /verify-email}, {@code /reset-password},
 * {@code /confirm-email}), served when TF_APP_URL is this server, so every email flow works
 * without a separate web app. They are clients of the public API: the server sends the same
 * static HTML for every token, and a small script from {@code 'self'} takes the token out of the
 * address bar and, once the person presses the page's button (never on load alone: mail scanners
 * open links), posts it to the matching API route. The HTML and assets are built once, at
 * construction (which reads the classpath: construct it off the event loop).
 */
public final class EmailLinkPages implements RouteModule {
    /** Scripts, styles and requests from this origin only; nothing inline, no framing, forms post here. */
    static final String CSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
            + "form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

    static final String HTML = "text/html; charset=utf-8";

    private final HashedAsset script = asset("email-links", "js", "text/javascript; charset=utf-8");
    private final HashedAsset stylesheet = asset("pages", "css", "text/css; charset=utf-8");
    private final Buffer verifyPage;
    private final Buffer resetPage;
    private final Buffer confirmPage;

    public EmailLinkPages() {
        Mustache page = new DefaultMustacheFactory("pages").compile("page.html.mustache");
        verifyPage = render(
                page,
                "verify",
                "Confirm your email address",
                "Confirm that this email address is yours.",
                "Confirm my email address");
        resetPage = render(page, "reset", "Choose a new password", "Checking your link…", "");
        confirmPage = render(
                page,
                "confirm",
                "Confirm your new email address",
                "Confirm that your TradersFlow account should use this email address from now on.",
                "Confirm the new address");
    }

    @Override
    public void mount(Router router, Api api) {
        router.get("/verify-email").handler(ctx -> page(ctx, verifyPage));
        router.get("/reset-password").handler(ctx -> page(ctx, resetPage));
        router.get("/confirm-email").handler(ctx -> page(ctx, confirmPage));
        // One route for the pages' files, so the API document and the request log name it once.
        Map<String, HashedAsset> assets = Map.of(script.path(), script, stylesheet.path(), stylesheet);
        router.get("/assets/:file").handler(ctx -> {
            HashedAsset a = assets.get(ctx.normalizedPath());
            if (a == null) {
                ctx.fail(404);
                return;
            }
            ctx.response()
                    .putHeader("Content-Type", a.contentType())
                    // The name carries a hash of the content, so a new release is a new name.
                    .putHeader("Cache-Control", "public, max-age=31536000, immutable")
                    .end(a.body());
        });
    }

    private static void page(RoutingContext ctx, Buffer html) {
        ctx.response()
                .putHeader("Content-Type", HTML)
                .putHeader("Content-Security-Policy", CSP)
                .putHeader("Referrer-Policy", "no-referrer")
                .putHeader("Cache-Control", "no-store")
                .end(html);
    }

    private Buffer render(Mustache page, String flow, String title, String working, String action) {
        StringWriter out = new StringWriter();
        page.execute(
                out,
                Map.of(
                        "flow",
                        flow,
                        "title",
                        title,
                        "working",
                        working,
                        "reset",
                        flow.equals("reset"),
                        "action",
                        action,
                        "script",
                        script.path(),
                        "stylesheet",
                        stylesheet.path()));
        return Buffer.buffer(out.toString());
    }

    private static HashedAsset asset(String name, String extension, String contentType) {
        return HashedAsset.load("pages/static/", "/assets/", name, extension, contentType);
    }
}
