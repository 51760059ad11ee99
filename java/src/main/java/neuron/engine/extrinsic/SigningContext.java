package neuron.engine.extrinsic;

import java.math.BigInteger;

/**
 * What a signed extrinsic commits to besides its call: the runtime's spec and transaction versions, the genesis
 * hash, the era with the hash of its birth block, the sender's nonce and a tip.
 */
public record SigningContext(long specVersion, long transactionVersion, byte[] genesisHash, Era era, long birthBlock,
                             byte[] birthHash, long nonce, BigInteger tip) {
    public SigningContext {
        if (genesisHash.length != 32 || birthHash.length != 32) {
            throw new IllegalArgumentException("block hashes are 32 bytes");
        }
        if (nonce < 0 || tip.signum() < 0) {
            throw new IllegalArgumentException("nonce and tip are not negative");
        }
        genesisHash = genesisHash.clone();
        birthHash = birthHash.clone();
    }

    /** The same with another nonce. */
    public SigningContext withNonce(long other) {
        return new SigningContext(specVersion, transactionVersion, genesisHash, era, birthBlock, birthHash, other, tip);
    }
}
