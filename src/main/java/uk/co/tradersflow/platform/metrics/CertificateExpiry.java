package uk.co.tradersflow.platform.metrics;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Instant;

/**
 * {@code tf_tls_certificate_expiry_seconds}: seconds until the served certificate's notAfter
 * (negative once it has passed), computed at each scrape so it counts down between restarts.
 * The leaf certificate is the first in the PEM chain.
 */
public final class CertificateExpiry {
    private CertificateExpiry() {}

    public static Instant notAfter(String certPem) {
        try {
            X509Certificate leaf = (X509Certificate) CertificateFactory.getInstance("X.509")
                    .generateCertificate(new ByteArrayInputStream(certPem.getBytes(StandardCharsets.US_ASCII)));
            return leaf.getNotAfter().toInstant();
        } catch (CertificateException e) {
            throw new IllegalArgumentException("the TLS certificate cannot be read: " + e.getMessage(), e);
        }
    }

    public static void bindTo(MeterRegistry registry, String certPem, Clock clock) {
        Instant notAfter = notAfter(certPem);
        Gauge.builder(
                        "tf.tls.certificate.expiry",
                        () -> notAfter.getEpochSecond() - clock.instant().getEpochSecond())
                .description("Seconds until the served TLS certificate expires")
                .baseUnit("seconds")
                .register(registry);
    }
}
