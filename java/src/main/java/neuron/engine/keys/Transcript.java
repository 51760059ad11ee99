package neuron.engine.keys;

import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;

/**
 * A Merlin transcript (merlin 3.x): labelled messages absorbed into STROBE-128, challenges squeezed out of it, and
 * the witness RNG that derives signing nonces from the transcript, a secret and fresh randomness.
 */
final class Transcript {
    private static final SecureRandom RANDOM = new SecureRandom();

    private final Strobe128 strobe;

    private Transcript(Strobe128 strobe) {
        this.strobe = strobe;
    }

    Transcript(String label) {
        this(new Strobe128(ascii("Merlin v1.0")));
        appendMessage("dom-sep", ascii(label));
    }

    Transcript copy() {
        return new Transcript(strobe.copy());
    }

    void appendMessage(String label, byte[] message) {
        strobe.metaAd(ascii(label), false);
        strobe.metaAd(u32(message.length), true);
        strobe.ad(message, false);
    }

    byte[] challengeBytes(String label, int length) {
        byte[] out = new byte[length];
        strobe.metaAd(ascii(label), false);
        strobe.metaAd(u32(length), true);
        strobe.prf(out, false);
        return out;
    }

    /**
     * {@code length} witness bytes: the transcript so far, rekeyed with each of {@code secrets} under {@code label}
     * and then with 32 bytes of fresh randomness, as merlin's {@code TranscriptRngBuilder} does. This transcript is
     * left unchanged.
     */
    byte[] witnessBytes(String label, int length, byte[]... secrets) {
        Strobe128 rng = strobe.copy();
        for (byte[] secret : secrets) {
            rng.metaAd(ascii(label), false);
            rng.metaAd(u32(secret.length), true);
            rng.key(secret, false);
        }
        byte[] random = new byte[32];
        RANDOM.nextBytes(random);
        rng.metaAd(ascii("rng"), false);
        rng.key(random, false);
        byte[] out = new byte[length];
        rng.metaAd(u32(length), false);
        rng.prf(out, false);
        rng.wipe();
        return out;
    }

    private static byte[] u32(int n) {
        return new byte[] {(byte) n, (byte) (n >>> 8), (byte) (n >>> 16), (byte) (n >>> 24)};
    }

    static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }
}
