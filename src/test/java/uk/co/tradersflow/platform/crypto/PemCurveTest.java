package uk.co.tradersflow.platform.crypto;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.interfaces.ECPublicKey;
import java.security.spec.ECGenParameterSpec;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.junit.jupiter.api.Test;

/**
 * The server's EC keys are P-256 and nothing else: other curves with a 256-bit field (secp256k1,
 * brainpoolP256r1) are refused when read, as a current or a retired JWT key, where a field size
 * check let them through and Bouncy Castle's verifier would have accepted their "ES256" tokens.
 */
class PemCurveTest {
    private static KeyPair on(String curve) throws Exception {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("EC", new BouncyCastleProvider());
        generator.initialize(new ECGenParameterSpec(curve));
        return generator.generateKeyPair();
    }

    @Test
    void aKeyOnAnotherCurveWithA256BitFieldIsRefused() throws Exception {
        for (String curve : new String[] {"secp256k1", "brainpoolP256r1"}) {
            KeyPair pair = on(curve);
            assertThatThrownBy(() -> Pem.readEcPublicKeys(Pem.publicKeyPem(pair.getPublic())))
                    .as(curve + " public")
                    .isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> Pem.readEcPublicKeys(Pem.privateKeyPem(pair.getPrivate())))
                    .as(curve + " private, as a retired key")
                    .isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> Pem.readEcPrivateKey(Pem.privateKeyPem(pair.getPrivate())))
                    .as(curve + " private, as the signing key")
                    .isInstanceOf(IllegalArgumentException.class);
        }
    }

    @Test
    void aP256KeyIsReadWhicheverProviderMadeIt() throws Exception {
        KeyPair bc = on("secp256r1");
        KeyPair jdk = Pem.generateP256();
        for (KeyPair pair : new KeyPair[] {bc, jdk}) {
            java.security.spec.ECPoint w = ((ECPublicKey) pair.getPublic()).getW();
            assertThat(Pem.readEcPublicKeys(Pem.publicKeyPem(pair.getPublic())))
                    .singleElement()
                    .satisfies(k -> assertThat(((ECPublicKey) k).getW()).isEqualTo(w));
            assertThat(((ECPublicKey) Pem.readEcPrivateKey(Pem.privateKeyPem(pair.getPrivate()))
                                    .getPublic())
                            .getW())
                    .isEqualTo(w);
        }
    }
}
