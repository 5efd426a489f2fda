package uk.co.tradersflow.platform.crypto;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.amazon.corretto.crypto.provider.AmazonCorrettoCryptoProvider;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.Provider;
import java.security.PublicKey;
import java.security.Security;
import java.security.Signature;
import java.security.SignatureSpi;
import java.security.interfaces.ECPrivateKey;
import java.security.spec.ECGenParameterSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/**
 * ES256 signatures as the access tokens and the audit checkpoints need them, from AWS-LC where it
 * loads and from Bouncy Castle elsewhere: every one verifies under the JDK's own ES256 with the
 * public key, S is always in the lower half, and the native library really signs on the platform
 * this project is built and measured on (its speed is why it is a dependency).
 */
class Es256SignerTest {
    private static final KeyPair KEY =
            Pem.readEcPrivateKey(Pem.privateKeyPem(Pem.generateP256().getPrivate()));
    private static final BigInteger HALF_ORDER =
            ((ECPrivateKey) KEY.getPrivate()).getParams().getOrder().shiftRight(1);

    @Test
    void onX8664LinuxAwsLcSigns() {
        assertThat(Es256Signer.of(KEY).implementation())
                .as("AWS-LC's loading error: %s", AmazonCorrettoCryptoProvider.INSTANCE.getLoadingError())
                .isEqualTo(Es256Signer.awsLcBuiltForThisPlatform() ? "AWS-LC" : "Bouncy Castle");
    }

    @Test
    void aProviderIsUsedOnlyIfItsFirstSignatureVerifies() throws Exception {
        assertThat(Es256Signer.of(KEY, Security.getProvider("SunEC"), "SunEC").implementation())
                .isEqualTo("SunEC");
        Es256Signer wrong = Es256Signer.of(KEY, new WrongSignatures(), "wrong");
        assertThat(wrong.implementation()).isEqualTo("Bouncy Castle");
        assertThat(jdkVerifies(new byte[] {9}, wrong.sign(new byte[] {9}))).isTrue();
        assertThat(Es256Signer.of(KEY, Security.getProvider("SUN"), "without ES256")
                        .implementation())
                .as("a provider without the algorithm")
                .isEqualTo("Bouncy Castle");
    }

    @Test
    void signaturesFromEitherLibraryVerifyUnderTheJdkWithALowS() throws Exception {
        for (Es256Signer signer : List.of(Es256Signer.of(KEY), Es256Signer.bouncyCastle(KEY))) {
            Random inputs = new Random(7);
            for (int i = 0; i < 300; i++) {
                byte[] input = new byte[inputs.nextInt(600)];
                inputs.nextBytes(input);
                byte[] signature = signer.sign(input);
                assertThat(signature).as(signer.implementation()).hasSize(64);
                assertThat(new BigInteger(1, signature, 32, 32))
                        .as(signer.implementation() + ": S in the lower half")
                        .isLessThanOrEqualTo(HALF_ORDER);
                assertThat(jdkVerifies(input, signature))
                        .as(signer.implementation())
                        .isTrue();
            }
        }
    }

    @Test
    void aSignatureOverOtherBytesOrByAnotherKeyDoesNotVerify() throws Exception {
        byte[] signature = Es256Signer.of(KEY).sign(new byte[] {1, 2, 3});
        assertThat(jdkVerifies(new byte[] {1, 2, 4}, signature)).isFalse();
        byte[] byAnother = Es256Signer.of(Pem.generateP256()).sign(new byte[] {1, 2, 3});
        assertThat(jdkVerifies(new byte[] {1, 2, 3}, byAnother)).isFalse();
    }

    @Test
    void threadsSigningAtOnceEachGetWholeSignatures() throws Exception {
        Es256Signer signer = Es256Signer.of(KEY);
        ExecutorService threads = Executors.newFixedThreadPool(4);
        try {
            List<Future<Boolean>> results = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                int thread = t;
                Callable<Boolean> signMany = () -> {
                    for (int i = 0; i < 400; i++) {
                        byte[] input = ("thread " + thread + " token " + i).getBytes(StandardCharsets.US_ASCII);
                        if (!jdkVerifies(input, signer.sign(input))) {
                            return false;
                        }
                    }
                    return true;
                };
                results.add(threads.submit(signMany));
            }
            for (Future<Boolean> result : results) {
                assertThat(result.get()).isTrue();
            }
        } finally {
            threads.shutdownNow();
        }
    }

    @Test
    void aKeyOnAnotherCurveIsRefused() throws Exception {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
        generator.initialize(new ECGenParameterSpec("secp384r1"));
        KeyPair p384 = generator.generateKeyPair();
        assertThatThrownBy(() -> Es256Signer.of(p384)).isInstanceOf(IllegalArgumentException.class);
    }

    /** A provider whose ES256 answers 64 bytes that are no signature. */
    private static final class WrongSignatures extends Provider {
        WrongSignatures() {
            super("WrongSignatures", "1", "signs nothing");
            put("Signature." + Es256Signer.ALGORITHM, Constant.class.getName());
        }
    }

    public static final class Constant extends SignatureSpi {
        @Override
        protected void engineInitSign(PrivateKey key) {}

        @Override
        protected void engineInitVerify(PublicKey key) {}

        @Override
        protected void engineUpdate(byte b) {}

        @Override
        protected void engineUpdate(byte[] b, int off, int len) {}

        @Override
        protected byte[] engineSign() {
            byte[] rs = new byte[64];
            rs[31] = 1;
            rs[63] = 1;
            return rs;
        }

        @Override
        protected boolean engineVerify(byte[] signature) {
            return false;
        }

        @Override
        @Deprecated
        protected void engineSetParameter(String param, Object value) {}

        @Override
        @Deprecated
        protected Object engineGetParameter(String param) {
            return null;
        }
    }

    private static boolean jdkVerifies(byte[] input, byte[] signature) throws Exception {
        Signature verifier = Signature.getInstance("SHA256withECDSAinP1363Format", "SunEC");
        verifier.initVerify(KEY.getPublic());
        verifier.update(input);
        return verifier.verify(signature);
    }
}
