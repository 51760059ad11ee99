package neuron.engine.keys;

import neuron.engine.chain.scale.Hashing;
import neuron.engine.chain.scale.ScaleWriter;

/**
 * One step of a derivation path, {@code //hard} or {@code /soft}, as Substrate's {@code DeriveJunction} reads it: a
 * number is its SCALE {@code u64}, anything else its SCALE string; that encoding, zero padded to 32 bytes (or its
 * BLAKE2b-256 when longer), is the chain code.
 */
public final class DeriveJunction {
    public static final int CHAIN_CODE_BYTES = 32;

    private final byte[] chainCode;
    private final boolean hard;

    private DeriveJunction(byte[] chainCode, boolean hard) {
        this.chainCode = chainCode;
        this.hard = hard;
    }

    /** A junction from the text after a path's {@code /}: {@code "/Alice"} is hard, {@code "1"} is soft. */
    public static DeriveJunction parse(String text) {
        boolean hard = text.startsWith("/");
        String code = hard ? text.substring(1) : text;
        ScaleWriter w = new ScaleWriter();
        Long number = code.matches("[0-9]+") ? unsignedLong(code) : null;
        if (number != null) {
            w.u64(number);
        } else {
            w.str(code);
        }
        byte[] encoded = w.toByteArray();
        if (encoded.length > CHAIN_CODE_BYTES) {
            return new DeriveJunction(Hashing.blake2b256(encoded), hard);
        }
        byte[] chainCode = new byte[CHAIN_CODE_BYTES];
        System.arraycopy(encoded, 0, chainCode, 0, encoded.length);
        return new DeriveJunction(chainCode, hard);
    }

    private static Long unsignedLong(String digits) {
        try {
            return Long.parseUnsignedLong(digits);
        } catch (NumberFormatException tooBig) {
            return null;
        }
    }

    public byte[] chainCode() {
        return chainCode.clone();
    }

    public boolean hard() {
        return hard;
    }
}
