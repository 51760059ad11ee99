package neuron.engine.keys;

/** The kinds of hotkey Substrate's {@code MultiSignature} accepts, with the variant index each is encoded under. */
public enum KeyType {
    ED25519(0),
    SR25519(1);

    private final int multiSignatureIndex;

    KeyType(int multiSignatureIndex) {
        this.multiSignatureIndex = multiSignatureIndex;
    }

    /** {@code sr25519} or {@code ed25519}, as Substrate's tools spell them. */
    public static KeyType parse(String name) {
        for (KeyType type : values()) {
            if (type.toString().equals(name)) {
                return type;
            }
        }
        throw new IllegalArgumentException("a key type is sr25519 or ed25519, not " + name);
    }

    /** The {@code MultiSignature} variant byte: 0 Ed25519, 1 Sr25519. */
    public int multiSignatureIndex() {
        return multiSignatureIndex;
    }

    @Override
    public String toString() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
