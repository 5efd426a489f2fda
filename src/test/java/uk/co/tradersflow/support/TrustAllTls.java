package uk.co.tradersflow.support;

import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;

/** A TLS client context that trusts the test server's self-signed certificate, for raw-socket tests. */
public final class TrustAllTls {
    private TrustAllTls() {}

    /** Web client options for the test server's HTTPS port on localhost, its self-signed certificate trusted. */
    public static io.vertx.ext.web.client.WebClientOptions webClient(int httpsPort) {
        return new io.vertx.ext.web.client.WebClientOptions()
                .setSsl(true)
                .setTrustAll(true)
                .setVerifyHost(false)
                .setDefaultHost("localhost")
                .setDefaultPort(httpsPort);
    }

    public static SSLContext context() throws GeneralSecurityException {
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(
                null,
                new TrustManager[] {
                    new X509TrustManager() {
                        @Override
                        public void checkClientTrusted(X509Certificate[] chain, String authType) {}

                        @Override
                        public void checkServerTrusted(X509Certificate[] chain, String authType) {}

                        @Override
                        public X509Certificate[] getAcceptedIssuers() {
                            return new X509Certificate[0];
                        }
                    }
                },
                new SecureRandom());
        return context;
    }
}
