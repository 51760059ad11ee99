package neuron.engine.api;

import java.nio.file.Path;

/** Opens checkpoints in a JVM started without the engine's flags: prints the refusal and exits 3. */
public final class OpenWithoutFlags {
    private OpenWithoutFlags() {
    }

    public static void main(String[] args) throws Exception {
        try (NeuronCheckpoints c = NeuronCheckpoints.forMiner(Path.of(args[0])).open()) {
            System.out.println("opened");
        } catch (IllegalStateException refused) {
            System.out.println("refused: " + refused.getMessage());
            System.exit(3);
        }
    }
}
