package uk.co.tradersflow.platform.crypto;

import java.math.BigInteger;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/** A development certificate for {@code localhost}, so HTTPS works with no setup at all. */
public final class SelfSignedCertificate {
    private SelfSignedCertificate() {}

    public record Pems(String certificate, String privateKey) {}

    public static Pems forLocalhost() {
        try {
            KeyPair pair = Pem.generateP256();
            Instant now = Instant.now();
            X500Name subject = new X500Name("CN=localhost, O=TradersFlow development");
            BigInteger serial = Pem.serial();
            var builder = new JcaX509v3CertificateBuilder(
                    subject,
                    serial,
                    Date.from(now.minus(Duration.ofDays(1))),
                    Date.from(now.plus(Duration.ofDays(365))),
                    subject,
                    pair.getPublic());
            builder.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(new GeneralName[] {
                new GeneralName(GeneralName.dNSName, "localhost"),
                new GeneralName(GeneralName.iPAddress, "127.0.0.1"),
                new GeneralName(GeneralName.iPAddress, "::1")
            }));
            builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
            var signer = new JcaContentSignerBuilder("SHA256withECDSA").build(pair.getPrivate());
            X509Certificate cert = new JcaX509CertificateConverter().getCertificate(builder.build(signer));
            return new Pems(Pem.encode("CERTIFICATE", cert.getEncoded()), Pem.privateKeyPem(pair.getPrivate()));
        } catch (Exception e) {
            throw new IllegalStateException("cannot generate a development certificate", e);
        }
    }
}
