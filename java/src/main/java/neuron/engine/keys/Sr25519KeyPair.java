package neuron.engine.keys;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;

/**
 * An sr25519 hotkey: schnorrkel's Schnorr signatures on ristretto255, signed with {@code sign_simple} under
 * Substrate's signing context {@code b"substrate"}. Made from a 32-byte mini secret expanded as schnorrkel's
 * {@code ExpandMode::Ed25519} does, which is how Substrate and Bittensor wallets make them.
 */
public final class Sr25519KeyPair implements KeyPair {
    public static final int MINI_SECRET_BYTES = 32;
    private static final byte[] SIGNING_CONTEXT = Transcript.ascii("substrate");

    /** The secret scalar (already divided by the cofactor, as schnorrkel keeps it). */
    private final byte[] key;
    /** The secret that seeds signing nonces. */
    private final byte[] nonce;
    private final byte[] publicKey;

    private Sr25519KeyPair(byte[] key, byte[] nonce) {
        this.key = key;
        this.nonce = nonce;
        this.publicKey = Ristretto255.baseMul(key);
        if (publicKey == null) {
            throw new IllegalArgumentException("an sr25519 secret key of zero");
        }
    }

    public static Sr25519KeyPair fromMiniSecret(byte[] miniSecret) {
        if (miniSecret.length != MINI_SECRET_BYTES) {
            throw new IllegalArgumentException(
                    "an sr25519 mini secret is " + MINI_SECRET_BYTES + " bytes, not " + miniSecret.length);
        }
        byte[] h = sha512(miniSecret);
        byte[] key = Arrays.copyOfRange(h, 0, 32);
        key[0] &= (byte) 248;
        key[31] &= 63;
        key[31] |= 64;
        divideByCofactor(key);
        byte[] nonce = Arrays.copyOfRange(h, 32, 64);
        Arrays.fill(h, (byte) 0);
        return new Sr25519KeyPair(key, nonce);
    }

    @Override
    public KeyType type() {
        return KeyType.SR25519;
    }

    @Override
    public byte[] publicKey() {
        return publicKey.clone();
    }

    @Override
    public byte[] sign(byte[] message) {
        Transcript t = signingTranscript(message, publicKey);
        byte[] r = Ristretto255.reduceWide(t.witnessBytes("signing", 64, nonce));
        byte[] bigR = Ristretto255.baseMul(r);
        t.appendMessage("sign:R", bigR);
        byte[] k = Ristretto255.reduceWide(t.challengeBytes("sign:c", 64));
        byte[] s = Ristretto255.scalarAdd(Ristretto255.scalarMul(k, key), r);
        Arrays.fill(r, (byte) 0);
        byte[] signature = new byte[64];
        System.arraycopy(bigR, 0, signature, 0, 32);
        System.arraycopy(s, 0, signature, 32, 32);
        signature[63] |= (byte) 0x80;
        return signature;
    }

    /** The secret as schnorrkel encodes it ({@code SecretKey::to_bytes}: key, then nonce). Only for wallet files. */
    byte[] secretKeyBytes() {
        byte[] bytes = new byte[64];
        System.arraycopy(key, 0, bytes, 0, 32);
        System.arraycopy(nonce, 0, bytes, 32, 32);
        return bytes;
    }

    /** Whether {@code signature} is {@code publicKey}'s signature of {@code message}; false for malformed input. */
    public static boolean verify(byte[] publicKey, byte[] message, byte[] signature) {
        if (publicKey.length != 32 || signature.length != 64 || (signature[63] & 0x80) == 0
                || !Ristretto255.isValidPoint(publicKey)) {
            return false;
        }
        byte[] bigR = Arrays.copyOfRange(signature, 0, 32);
        byte[] s = Arrays.copyOfRange(signature, 32, 64);
        s[31] &= 0x7f;
        if (!Ristretto255.isCanonicalScalar(s)) {
            return false;
        }
        Transcript t = signingTranscript(message, publicKey);
        t.appendMessage("sign:R", bigR);
        byte[] k = Ristretto255.reduceWide(t.challengeBytes("sign:c", 64));
        // R == s·B − k·A
        byte[] sB = Ristretto255.baseMul(s);
        byte[] kA = Ristretto255.mul(k, publicKey);
        if (sB == null || kA == null) {
            return false;
        }
        byte[] expected = Ristretto255.sub(sB, kA);
        return expected != null && MessageDigest.isEqual(expected, bigR);
    }

    /** The key at hard junction {@code chainCode} below this one, as Substrate's {@code //junction} derives it. */
    public Sr25519KeyPair deriveHard(byte[] chainCode) {
        Transcript t = new Transcript("SchnorrRistrettoHDKD");
        t.appendMessage("sign-bytes", new byte[0]);
        t.appendMessage("chain-code", chainCode);
        t.appendMessage("secret-key", key);
        byte[] miniSecret = t.challengeBytes("HDKD-hard", MINI_SECRET_BYTES);
        try {
            return fromMiniSecret(miniSecret);
        } finally {
            Arrays.fill(miniSecret, (byte) 0);
        }
    }

    /** The key at soft junction {@code chainCode} below this one, as Substrate's {@code /junction} derives it. */
    public Sr25519KeyPair deriveSoft(byte[] chainCode) {
        Transcript t = new Transcript("SchnorrRistrettoHDKD");
        t.appendMessage("sign-bytes", new byte[0]);
        t.appendMessage("chain-code", chainCode);
        t.appendMessage("public-key", publicKey);
        byte[] scalar = Ristretto255.reduceWide(t.challengeBytes("HDKD-scalar", 64));
        t.challengeBytes("HDKD-chaincode", 32);
        byte[] derivedNonce = t.witnessBytes("HDKD-nonce", 32, nonce, key);
        return new Sr25519KeyPair(Ristretto255.scalarAdd(key, scalar), derivedNonce);
    }

    private static Transcript signingTranscript(byte[] message, byte[] publicKey) {
        Transcript t = new Transcript("SigningContext");
        t.appendMessage("", SIGNING_CONTEXT);
        t.appendMessage("sign-bytes", message);
        t.appendMessage("proto-name", Transcript.ascii("Schnorr-sig"));
        t.appendMessage("sign:pk", publicKey);
        return t;
    }

    /** Divides a little-endian 256-bit number by 8 in place (schnorrkel keeps keys free of the cofactor). */
    private static void divideByCofactor(byte[] scalar) {
        int low = 0;
        for (int i = scalar.length - 1; i >= 0; i--) {
            int b = scalar[i] & 0xff;
            scalar[i] = (byte) ((b >>> 3) + low);
            low = (b & 7) << 5;
        }
    }

    private static byte[] sha512(byte[] data) {
        try {
            return MessageDigest.getInstance("SHA-512").digest(data);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof Sr25519KeyPair that && Arrays.equals(publicKey, that.publicKey);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(publicKey);
    }

    @Override
    public String toString() {
        return "sr25519 " + HexFormat.of().formatHex(publicKey);
    }
}
