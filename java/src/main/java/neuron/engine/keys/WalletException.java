package neuron.engine.keys;

/**
 * A hotkey file the engine refuses: missing, readable by others, malformed, or holding a key that does not match its
 * public key. The message is one line naming the file and the fix; it never holds the file's content.
 */
public final class WalletException extends IllegalArgumentException {
    public WalletException(String message) {
        super(message);
    }
}
