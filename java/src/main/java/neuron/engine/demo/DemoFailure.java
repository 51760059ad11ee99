package neuron.engine.demo;

/** The demo cannot go on: a process did not start, died, or never showed what the demo waits for. */
public final class DemoFailure extends RuntimeException {
    DemoFailure(String message) {
        super(message);
    }
}
