package neuron.engine.keys;

/** The kinds of hotkey Substrate's {@code MultiSignature} accepts, with the variant index each is encoded under. */
public enum KeyType {
    ED25519(0),
    SR25519(1);

    private final int multiSignatureIndex;

    KeyType(int multiSignatureIndex) {
        this.multiSignatureIndex = multiSignatureIndex;
    }

    /** The {@code MultiSignature} variant byte: 0 Ed25519, 1 Sr25519. */
    public int multiSignatureIndex() {
        return multiSignatureIndex;
    }
}
