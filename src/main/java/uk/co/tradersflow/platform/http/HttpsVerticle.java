package uk.co.tradersflow.platform.http;

import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.net.OpenSSLEngineOptions;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.ext.web.Router;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import uk.co.tradersflow.config.AppConfig;

/**
 * The HTTPS listener. Deployed once per event loop; the instances share the port and each has
 * its own router with every capability's routes mounted. TLS 1.3 and 1.2 with AEAD suites only.
 */
public final class HttpsVerticle extends VerticleBase {
    /** TLS 1.3 suites (all AEAD), then TLS 1.2 ECDHE suites with GCM or ChaCha20-Poly1305. */
    static final List<String> CIPHER_SUITES = List.of(
            "TLS_AES_128_GCM_SHA256",
            "TLS_AES_256_GCM_SHA384",
            "TLS_CHACHA20_POLY1305_SHA256",
            "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
            "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
            "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
            "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
            "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
            "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256");

    private static final long SHUTDOWN_GRACE_SECONDS = 10;

    private final int port;
    private final String certPem;
    private final String keyPem;
    private final Api api;
    private final List<RouteModule> modules;
    private final AppConfig.HttpSettings http;
    private HttpServer server;

    public HttpsVerticle(
            int port, String certPem, String keyPem, Api api, List<RouteModule> modules, AppConfig.HttpSettings http) {
        this.http = http;
        this.port = port;
        this.certPem = certPem;
        this.keyPem = keyPem;
        this.api = api;
        this.modules = modules;
    }

    @Override
    public Future<?> start() {
        Router router = ApiRouter.create(vertx, api, modules, http.corsOrigins());

        HttpServerOptions options = new HttpServerOptions()
                .setPort(port)
                .setHost(http.bindAddress())
                .setSsl(true)
                .setUseAlpn(true)
                .setKeyCertOptions(new PemKeyCertOptions()
                        .setCertValue(Buffer.buffer(certPem))
                        .setKeyValue(Buffer.buffer(keyPem)))
                .setEnabledSecureTransportProtocols(Set.of("TLSv1.3", "TLSv1.2"))
                .setIdleTimeout(120)
                .setIdleTimeoutUnit(TimeUnit.SECONDS)
                .setDecompressionSupported(false);
        new LinkedHashSet<>(CIPHER_SUITES).forEach(options::addEnabledCipherSuite);
        if (OpenSSLEngineOptions.isAvailable()) {
            // BoringSSL (netty-tcnative): the same protocols and suites at a fraction of the JDK
            // engine's CPU per record, which was a fifth of the server's time under load.
            options.setSslEngineOptions(new OpenSSLEngineOptions());
        }
        server = ConnectionGuard.server(vertx, options, http.limits())
                .requestHandler(request -> router.handle(HeadOverHttp2.wrap(request)));
        return server.listen();
    }

    /** Stops accepting, lets in-flight requests finish for up to ten seconds, then closes. */
    @Override
    public Future<?> stop() {
        return server == null ? Future.succeededFuture() : server.shutdown(SHUTDOWN_GRACE_SECONDS, TimeUnit.SECONDS);
    }
}
