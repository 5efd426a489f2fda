package uk.co.tradersflow.platform.crypto;

import java.io.IOException;
import java.io.StringReader;
import java.math.BigInteger;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.interfaces.ECPrivateKey;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.ECPoint;
import java.security.spec.ECPublicKeySpec;
import java.util.Base64;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.jce.ECNamedCurveTable;
import org.bouncycastle.math.ec.ECMultiplier;
import org.bouncycastle.math.ec.FixedPointCombMultiplier;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;

/** PEM reading and writing for the server's EC P-256 keys. */
public final class Pem {
    private Pem() {}

    public static String encode(String type, byte[] der) {
        String body = Base64.getMimeEncoder(64, "\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII))
                .encodeToString(der);
        return "-----BEGIN " + type + "-----\n" + body + "\n-----END " + type + "-----\n";
    }

    /**
     * Whether {@code params} are P-256's (secp256r1): its curve, base point, order and cofactor. A
     * 256-bit field is not enough: secp256k1 and brainpoolP256r1 have one too, and a key on either
     * would sign or verify "ES256" tokens under a kid computed as if it were P-256.
     */
    public static boolean onP256(java.security.spec.ECParameterSpec params) {
        java.security.spec.ECParameterSpec p256 = P256.SPEC;
        return params.getCurve().equals(p256.getCurve())
                && params.getGenerator().equals(p256.getGenerator())
                && params.getOrder().equals(p256.getOrder())
                && params.getCofactor() == p256.getCofactor();
    }

    /** P-256's parameters as the JDK names them, looked up once. */
    private static final class P256 {
        static final java.security.spec.ECParameterSpec SPEC = lookUp();

        private static java.security.spec.ECParameterSpec lookUp() {
            try {
                java.security.AlgorithmParameters parameters = java.security.AlgorithmParameters.getInstance("EC");
                parameters.init(new ECGenParameterSpec("secp256r1"));
                return parameters.getParameterSpec(java.security.spec.ECParameterSpec.class);
            } catch (java.security.GeneralSecurityException e) {
                throw new IllegalStateException("EC P-256 is not available in this JVM", e);
            }
        }
    }

    public static KeyPair generateP256() {
        try {
            KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
            generator.initialize(new ECGenParameterSpec("secp256r1"));
            return generator.generateKeyPair();
        } catch (java.security.GeneralSecurityException e) {
            throw new IllegalStateException("EC P-256 is not available in this JVM", e);
        }
    }

    /** Reads a PKCS#8 or SEC1 ("EC PRIVATE KEY") PEM and returns the key pair, deriving the public half. */
    public static KeyPair readEcPrivateKey(String pem) {
        try (PEMParser parser = new PEMParser(new StringReader(pem))) {
            Object object = parser.readObject();
            JcaPEMKeyConverter converter = new JcaPEMKeyConverter();
            PrivateKey privateKey;
            if (object instanceof PEMKeyPair pair) {
                privateKey = converter.getPrivateKey(pair.getPrivateKeyInfo());
            } else if (object instanceof PrivateKeyInfo info) {
                privateKey = converter.getPrivateKey(info);
            } else {
                throw new IllegalArgumentException("not a private key");
            }
            if (!(privateKey instanceof ECPrivateKey ec) || !onP256(ec.getParams())) {
                throw new IllegalArgumentException("not an EC P-256 key");
            }
            return new KeyPair(publicKeyOf(ec), privateKey);
        } catch (IOException | java.security.GeneralSecurityException e) {
            throw new IllegalArgumentException("unreadable private key", e);
        }
    }

    private static PublicKey publicKeyOf(ECPrivateKey key) throws java.security.GeneralSecurityException {
        var spec = ECNamedCurveTable.getParameterSpec("secp256r1");
        ECMultiplier multiplier = new FixedPointCombMultiplier();
        var q = multiplier.multiply(spec.getG(), key.getS()).normalize();
        ECPoint point = new ECPoint(
                q.getAffineXCoord().toBigInteger(), q.getAffineYCoord().toBigInteger());
        return KeyFactory.getInstance("EC").generatePublic(new ECPublicKeySpec(point, key.getParams()));
    }

    public static String privateKeyPem(PrivateKey key) {
        return encode("PRIVATE KEY", key.getEncoded());
    }

    public static String publicKeyPem(PublicKey key) {
        return encode("PUBLIC KEY", key.getEncoded());
    }

    /**
     * Reads every PEM block of the text as an EC P-256 key, public ("PUBLIC KEY") or private (its
     * public half is derived), in order. Used for keys that only verify, such as retired JWT keys.
     */
    public static java.util.List<PublicKey> readEcPublicKeys(String pems) {
        java.util.List<PublicKey> keys = new java.util.ArrayList<>();
        try (PEMParser parser = new PEMParser(new StringReader(pems))) {
            JcaPEMKeyConverter converter = new JcaPEMKeyConverter();
            for (Object object = parser.readObject(); object != null; object = parser.readObject()) {
                PublicKey key;
                if (object instanceof org.bouncycastle.asn1.x509.SubjectPublicKeyInfo info) {
                    key = converter.getPublicKey(info);
                } else if (object instanceof PEMKeyPair pair) {
                    key = publicKeyOf((ECPrivateKey) converter.getPrivateKey(pair.getPrivateKeyInfo()));
                } else if (object instanceof PrivateKeyInfo info
                        && converter.getPrivateKey(info) instanceof ECPrivateKey ec) {
                    key = publicKeyOf(ec);
                } else {
                    throw new IllegalArgumentException("not an EC key");
                }
                if (!(key instanceof java.security.interfaces.ECPublicKey ec) || !onP256(ec.getParams())) {
                    throw new IllegalArgumentException("not an EC P-256 key");
                }
                keys.add(key);
            }
        } catch (IOException | java.security.GeneralSecurityException | ClassCastException e) {
            throw new IllegalArgumentException("unreadable key", e);
        }
        return java.util.List.copyOf(keys);
    }

    static BigInteger serial() {
        return new BigInteger(64, new java.security.SecureRandom());
    }
}
