package neuron.engine.checkpoint;

import java.nio.file.Path;

/** A process that opens a checkpointer and keeps it until it is killed: the other party of a lock test. */
final class HoldCheckpoint {
    private HoldCheckpoint() {
    }

    /** args: checkpoint path, staging directory. */
    public static void main(String[] args) throws Exception {
        try (Checkpointer c = Checkpointer.open(new CheckpointConfig(Path.of(args[0]), 2, Path.of(args[1])),
                new CheckpointPolicy(1), 1 << 20, "global_step", CheckpointListener.NONE)) {
            System.out.println("holding " + c.path() + " as " + ProcessHandle.current().pid());
            System.out.flush();
            Thread.sleep(Long.MAX_VALUE);
        }
    }
}
