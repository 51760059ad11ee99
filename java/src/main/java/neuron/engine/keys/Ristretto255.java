package neuron.engine.keys;

import com.goterl.lazysodium.LazySodiumJava;
import com.goterl.lazysodium.SodiumJava;
import com.goterl.lazysodium.interfaces.Ristretto255.Native;

/**
 * The ristretto255 group and its scalars mod ℓ, from libsodium (bundled with lazysodium). Points and scalars are
 * 32-byte canonical encodings, scalars little-endian.
 */
final class Ristretto255 {
    static final int BYTES = 32;
    /** ℓ = 2^252 + 27742317777372353535851937790883648493, little-endian. */
    private static final byte[] ORDER = {
        (byte) 0xed, (byte) 0xd3, (byte) 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58,
        (byte) 0xd6, (byte) 0x9c, (byte) 0xf7, (byte) 0xa2, (byte) 0xde, (byte) 0xf9, (byte) 0xde, 0x14,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
    };

    private Ristretto255() {
    }

    private static final class Sodium {
        static final Native LIB = load();

        private static Native load() {
            try {
                return new LazySodiumJava(new SodiumJava());
            } catch (RuntimeException | LinkageError e) {
                throw new IllegalStateException("sr25519 needs libsodium, which did not load: " + e.getMessage(), e);
            }
        }
    }

    /** {@code scalar}·B; null where the result is the identity (scalar 0). */
    static byte[] baseMul(byte[] scalar) {
        byte[] point = new byte[BYTES];
        return Sodium.LIB.cryptoScalarmultRistretto255Base(point, scalar) ? point : null;
    }

    /** {@code scalar}·{@code point}; null where the point is not a valid encoding or the result is the identity. */
    static byte[] mul(byte[] scalar, byte[] point) {
        byte[] result = new byte[BYTES];
        return Sodium.LIB.cryptoScalarmultRistretto255(result, scalar, point) ? result : null;
    }

    /** p − q; null where either is not a valid encoding. */
    static byte[] sub(byte[] p, byte[] q) {
        byte[] result = new byte[BYTES];
        return Sodium.LIB.cryptoCoreRistretto255Sub(result, p, q) ? result : null;
    }

    static boolean isValidPoint(byte[] point) {
        return point.length == BYTES && Sodium.LIB.cryptoCoreRistretto255IsValidPoint(point);
    }

    /** A 64-byte little-endian number reduced mod ℓ. */
    static byte[] reduceWide(byte[] wide) {
        byte[] scalar = new byte[BYTES];
        Sodium.LIB.cryptoCoreRistretto255ScalarReduce(scalar, wide);
        return scalar;
    }

    static byte[] scalarAdd(byte[] x, byte[] y) {
        byte[] z = new byte[BYTES];
        Sodium.LIB.cryptoCoreRistretto255ScalarAdd(z, x, y);
        return z;
    }

    static byte[] scalarMul(byte[] x, byte[] y) {
        byte[] z = new byte[BYTES];
        Sodium.LIB.cryptoCoreRistretto255ScalarMul(z, x, y);
        return z;
    }

    /** Whether a 32-byte scalar is below ℓ. */
    static boolean isCanonicalScalar(byte[] scalar) {
        for (int i = BYTES - 1; i >= 0; i--) {
            int a = scalar[i] & 0xff;
            int b = ORDER[i] & 0xff;
            if (a != b) {
                return a < b;
            }
        }
        return false;
    }
}
