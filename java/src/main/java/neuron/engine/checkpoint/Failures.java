package neuron.engine.checkpoint;

/** Failures as operators read them: one line. */
public final class Failures {
    private Failures() {
    }

    /** The exception's message (or its class when it has none) on one line. */
    public static String oneLine(Throwable t) {
        String msg = t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
        return msg.replace('\n', ' ');
    }
}
