package neuron.engine.keys;

/**
 * A hotkey that signs. The secret half never leaves the implementation: no accessor returns it and
 * {@link Object#toString()} names only the kind and the public key.
 */
public interface KeyPair {
    KeyType type();

    /** The 32-byte public key, which is also the account id ({@code AccountId32}). */
    byte[] publicKey();

    /** A 64-byte signature of {@code message}. */
    byte[] sign(byte[] message);
}
