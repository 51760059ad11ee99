package neuron.engine.keys;

import java.util.Arrays;
import java.util.HexFormat;

import org.bouncycastle.crypto.params.Ed25519PrivateKeyParameters;
import org.bouncycastle.crypto.params.Ed25519PublicKeyParameters;
import org.bouncycastle.crypto.signers.Ed25519Signer;

/** An ed25519 hotkey (RFC 8032, Bouncy Castle), made from a 32-byte seed as Substrate's {@code ed25519::Pair} is. */
public final class Ed25519KeyPair implements KeyPair {
    public static final int SEED_BYTES = 32;

    private final Ed25519PrivateKeyParameters secret;
    private final byte[] publicKey;

    private Ed25519KeyPair(Ed25519PrivateKeyParameters secret) {
        this.secret = secret;
        this.publicKey = secret.generatePublicKey().getEncoded();
    }

    public static Ed25519KeyPair fromSeed(byte[] seed) {
        if (seed.length != SEED_BYTES) {
            throw new IllegalArgumentException("an ed25519 seed is " + SEED_BYTES + " bytes, not " + seed.length);
        }
        return new Ed25519KeyPair(new Ed25519PrivateKeyParameters(seed, 0));
    }

    @Override
    public KeyType type() {
        return KeyType.ED25519;
    }

    @Override
    public byte[] publicKey() {
        return publicKey.clone();
    }

    @Override
    public byte[] sign(byte[] message) {
        Ed25519Signer signer = new Ed25519Signer();
        signer.init(true, secret);
        signer.update(message, 0, message.length);
        return signer.generateSignature();
    }

    /** The secret as wallet files hold it: the seed, then the public key (64 bytes). Only for writing them. */
    byte[] secretKeyBytes() {
        byte[] bytes = new byte[64];
        secret.encode(bytes, 0);
        System.arraycopy(publicKey, 0, bytes, 32, 32);
        return bytes;
    }

    /** Whether {@code signature} is {@code publicKey}'s signature of {@code message}; false for malformed input. */
    public static boolean verify(byte[] publicKey, byte[] message, byte[] signature) {
        if (publicKey.length != 32 || signature.length != 64) {
            return false;
        }
        Ed25519PublicKeyParameters key;
        try {
            key = new Ed25519PublicKeyParameters(publicKey, 0);
        } catch (IllegalArgumentException notAPoint) {
            return false;
        }
        Ed25519Signer verifier = new Ed25519Signer();
        verifier.init(false, key);
        verifier.update(message, 0, message.length);
        return verifier.verifySignature(signature);
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof Ed25519KeyPair that && Arrays.equals(publicKey, that.publicKey);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(publicKey);
    }

    @Override
    public String toString() {
        return "ed25519 " + HexFormat.of().formatHex(publicKey);
    }
}
