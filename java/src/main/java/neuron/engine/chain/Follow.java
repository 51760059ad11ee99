package neuron.engine.chain;

/**
 * Which heads a remote chain is followed by: finalized heads (a block once delivered is never reorganised away), or
 * best heads (sooner, but a reorganisation can replace blocks already delivered, which the feed then rolls back).
 */
public enum Follow {
    FINALIZED,
    BEST;

    /** The {@code --follow} spelling: {@code finalized} or {@code best}. */
    public static Follow parse(String text) {
        for (Follow follow : values()) {
            if (follow.name().equalsIgnoreCase(text)) {
                return follow;
            }
        }
        throw new IllegalArgumentException("--follow must be 'finalized' or 'best', got '" + text + "'");
    }
}
