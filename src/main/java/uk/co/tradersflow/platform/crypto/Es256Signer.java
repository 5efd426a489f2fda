package uk.co.tradersflow.platform.crypto;

import com.amazon.corretto.crypto.provider.AmazonCorrettoCryptoProvider;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.InvalidKeyException;
import java.security.KeyPair;
import java.security.Provider;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.interfaces.ECPrivateKey;
import java.util.List;
import org.bouncycastle.crypto.params.ECPrivateKeyParameters;
import org.bouncycastle.crypto.params.ParametersWithRandom;
import org.bouncycastle.crypto.signers.ECDSASigner;
import org.bouncycastle.jcajce.provider.asymmetric.util.ECUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * ES256 signatures by one EC P-256 key: SHA-256 and ECDSA, as JOSE wants them (r and s, 32 bytes
 * each), always with the low S ({@code (r, s)} and {@code (r, n - s)} both verify; picking one
 * lets a verifier accept exactly one spelling of each signed token).
 *
 * <p>Signed by AWS-LC through the Amazon Corretto Crypto Provider where its native library loads
 * (Linux on x86-64): about 16 µs a signature on this project's machines, against about 80 µs in
 * Bouncy Castle and 0.6 ms in the JDK 17 provider, and a signature is a quarter of the server's
 * CPU for each refresh it rotates (load-tests/README.md, "thirteenth sitting"). Elsewhere, or if
 * the provider's signature does not verify at start-up, Bouncy Castle signs. The provider is not
 * installed for the JVM: TLS, hashing and random numbers stay where they were.
 */
public final class Es256Signer {
    private static final Logger log = LoggerFactory.getLogger(Es256Signer.class);
    static final String ALGORITHM = "SHA256withECDSAinP1363Format";
    private static final SecureRandom RANDOM = new SecureRandom();

    /** How a signature is made: each implementation returns r and s, 32 bytes each, S not yet lowered. */
    private interface Engine {
        byte[] sign(byte[] input);
    }

    private final Engine engine;
    private final String implementation;
    private final BigInteger order;
    private final BigInteger halfOrder;

    private Es256Signer(Engine engine, String implementation, BigInteger order) {
        this.engine = engine;
        this.implementation = implementation;
        this.order = order;
        this.halfOrder = order.shiftRight(1);
    }

    /** The fastest signer for {@code key} this platform has (see the class comment). */
    public static Es256Signer of(KeyPair key) {
        Throwable notLoaded;
        try {
            notLoaded = AmazonCorrettoCryptoProvider.INSTANCE.getLoadingError();
        } catch (LinkageError e) {
            notLoaded = e;
        }
        if (notLoaded != null) {
            if (awsLcBuiltForThisPlatform()) {
                // Its native library failed to load (a noexec java.io.tmpdir, where it unpacks, is
                // one way): the server runs, and each signature costs five times the CPU.
                log.warn("ES256 by Bouncy Castle: AWS-LC did not load", notLoaded);
            } else {
                log.info("ES256 by Bouncy Castle: AWS-LC is not built for this platform");
            }
            return bouncyCastle(key);
        }
        return of(key, AmazonCorrettoCryptoProvider.INSTANCE, "AWS-LC");
    }

    /**
     * {@code provider}'s signer, named {@code name}, if its first signature verifies under the JDK's
     * own ES256; Bouncy Castle's otherwise.
     */
    static Es256Signer of(KeyPair key, Provider provider, String name) {
        Es256Signer fallback = bouncyCastle(key);
        try {
            Es256Signer candidate = new Es256Signer(new ProviderEngine(provider, key), name, fallback.order);
            if (candidate.signsFor(key)) {
                return candidate;
            }
            log.warn("ES256 by Bouncy Castle: a signature from {} did not verify", name);
        } catch (GeneralSecurityException | RuntimeException e) {
            log.warn("ES256 by Bouncy Castle: {} cannot sign with this key", name, e);
        }
        return fallback;
    }

    /** x86-64 Linux: the one platform whose AWS-LC library the build ships (see the pom). */
    static boolean awsLcBuiltForThisPlatform() {
        return System.getProperty("os.name").equals("Linux")
                && List.of("amd64", "x86_64").contains(System.getProperty("os.arch"));
    }

    /** Bouncy Castle's signer, whatever else the platform has: the fallback, and for tests. */
    static Es256Signer bouncyCastle(KeyPair key) {
        if (!(key.getPrivate() instanceof ECPrivateKey ec) || !Pem.onP256(ec.getParams())) {
            throw new IllegalArgumentException("ES256 signs with an EC P-256 private key only");
        }
        try {
            ECPrivateKeyParameters parameters =
                    (ECPrivateKeyParameters) ECUtil.generatePrivateKeyParameter(key.getPrivate());
            return new Es256Signer(
                    new BouncyCastleEngine(parameters),
                    "Bouncy Castle",
                    parameters.getParameters().getN());
        } catch (InvalidKeyException e) {
            throw new IllegalStateException("the signing key is not an EC P-256 private key", e);
        }
    }

    /** Which library signs: "AWS-LC" or "Bouncy Castle" (for the start-up log). */
    public String implementation() {
        return implementation;
    }

    /** The signature over {@code input}: r then the low s, 32 bytes each. */
    public byte[] sign(byte[] input) {
        byte[] signature = engine.sign(input);
        BigInteger s = new BigInteger(1, signature, 32, 32);
        if (s.compareTo(halfOrder) > 0) {
            System.arraycopy(fixed32(order.subtract(s)), 0, signature, 32, 32);
        }
        return signature;
    }

    /** A non-negative number as exactly 32 big-endian bytes (a P-256 coordinate or scalar). */
    public static byte[] fixed32(BigInteger value) {
        byte[] raw = value.toByteArray();
        byte[] out = new byte[32];
        int copy = Math.min(raw.length, 32);
        System.arraycopy(raw, raw.length - copy, out, 32 - copy, copy);
        return out;
    }

    /** Whether a signature made here verifies under the JDK's own ES256 with the key's public half. */
    private boolean signsFor(KeyPair key) throws GeneralSecurityException {
        byte[] probe = "es256 signer self-check".getBytes(StandardCharsets.US_ASCII);
        Signature verifier = Signature.getInstance(ALGORITHM, "SunEC");
        verifier.initVerify(key.getPublic());
        verifier.update(probe);
        return verifier.verify(sign(probe));
    }

    /**
     * A JCA provider's signer. {@link Signature} objects are not thread-safe and initialising one
     * costs more than a signature, so each thread that signs (event loops, a few workers) keeps one,
     * initialised once, which returns to that state after every signature.
     */
    private static final class ProviderEngine implements Engine {
        private final ThreadLocal<Signature> perThread;

        ProviderEngine(Provider provider, KeyPair key) {
            this.perThread = ThreadLocal.withInitial(() -> {
                try {
                    Signature signature = Signature.getInstance(ALGORITHM, provider);
                    signature.initSign(key.getPrivate());
                    return signature;
                } catch (GeneralSecurityException e) {
                    throw new IllegalStateException("cannot sign with the server's ES256 key", e);
                }
            });
            perThread.get(); // a key the provider cannot use fails here, at start-up, not on a request
        }

        @Override
        public byte[] sign(byte[] input) {
            Signature signature = perThread.get();
            try {
                signature.update(input);
                byte[] rs = signature.sign();
                if (rs.length != 64) {
                    throw new IllegalStateException("an ES256 signature of " + rs.length + " bytes");
                }
                return rs;
            } catch (GeneralSecurityException | RuntimeException e) {
                // A signature that failed part-way may still hold this input: the thread's next
                // signature starts from a fresh one.
                perThread.remove();
                throw e instanceof RuntimeException r
                        ? r
                        : new IllegalStateException("cannot sign with the server's ES256 key", e);
            }
        }
    }

    /** Bouncy Castle's low-level signer with the key's parameters made once (a signer is cheap to make). */
    private record BouncyCastleEngine(ECPrivateKeyParameters key) implements Engine {
        @Override
        public byte[] sign(byte[] input) {
            ECDSASigner signer = new ECDSASigner();
            signer.init(true, new ParametersWithRandom(key, RANDOM));
            BigInteger[] rs = signer.generateSignature(Sha256.of(input));
            byte[] signature = new byte[64];
            System.arraycopy(fixed32(rs[0]), 0, signature, 0, 32);
            System.arraycopy(fixed32(rs[1]), 0, signature, 32, 32);
            return signature;
        }
    }
}
