package neuron.engine.extrinsic;

import java.util.HexFormat;

/** A v4 signed extrinsic ready to submit: its bytes (length-prefixed), its hash, and what it was signed with. */
public record SignedExtrinsic(byte[] bytes, byte[] hash, String call, long nonce, Era era, long birthBlock) {
    public String hex() {
        return "0x" + HexFormat.of().formatHex(bytes);
    }

    public String hashHex() {
        return "0x" + HexFormat.of().formatHex(hash);
    }

    /** Names the extrinsic in a log line: hash, call and nonce (never its signature's inputs). */
    public String describe() {
        return hashHex() + " (" + call + ", nonce " + nonce + ")";
    }
}
