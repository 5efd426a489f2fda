package uk.co.tradersflow.platform.http;

import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.ext.web.Router;
import java.net.URI;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import uk.co.tradersflow.config.AppConfig.HttpLimits;

/**
 * The plain-HTTP listener: health checks for load balancers and orchestrators, and a 308 to the
 * same path and query on HTTPS for everything else. The redirect's host comes from
 * {@code TF_PUBLIC_URL}, never from the request's Host header, so it cannot be turned into an
 * open redirect.
 */
public final class PlainHttpVerticle extends VerticleBase {
    private final String host;
    private final int port;
    private final URI publicUrl;
    /** Mounts the health probes; a function, so this listener names no capability. */
    private final Consumer<Router> probes;

    private final HttpLimits limits;
    private HttpServer server;

    public PlainHttpVerticle(String host, int port, URI publicUrl, Consumer<Router> probes, HttpLimits limits) {
        this.host = host;
        this.port = port;
        this.limits = limits;
        this.publicUrl = publicUrl;
        this.probes = probes;
    }

    @Override
    public Future<?> start() {
        Router router = Router.router(vertx);
        router.route().handler(new RequestIds()).handler(new SecurityHeaders(false));
        probes.accept(router);
        ApiRouter.answerHeadWhereGet(router);
        String base = publicUrl.getScheme().equals("https")
                ? publicUrl.toString().replaceAll("/+$", "")
                : "https://" + publicUrl.getHost();
        router.route().handler(ctx -> {
            String uri = ctx.request().uri();
            String path = uri.startsWith("/") ? uri : "/";
            ctx.response().setStatusCode(308).putHeader("Location", base + path).end();
        });
        router.route().failureHandler(ProblemResponder::handle);
        server = ConnectionGuard.server(
                        vertx,
                        new HttpServerOptions().setHost(host).setPort(port).setIdleTimeout(60),
                        limits)
                .requestHandler(router);
        return server.listen();
    }

    @Override
    public Future<?> stop() {
        return server == null ? Future.succeededFuture() : server.shutdown(10, TimeUnit.SECONDS);
    }
}
