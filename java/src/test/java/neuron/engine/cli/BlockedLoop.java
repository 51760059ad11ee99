package neuron.engine.cli;

import java.io.FileInputStream;
import java.nio.file.Path;

/**
 * A command whose loop gets blocked in a read that never returns (opening a FIFO no one writes), either before
 * its first step or after some steps: the graceful stop must still end the process, in bounded time.
 */
final class BlockedLoop {
    private BlockedLoop() {
    }

    /** args: "start-up" or "mid-run", the FIFO. */
    public static void main(String[] args) throws Exception {
        boolean midRun = "mid-run".equals(args[0]);
        Path fifo = Path.of(args[1]);
        System.exit(Session.run(new CheckpointOptions(), null, (listener, metrics, status, stop) -> {
            if (midRun) {
                for (int step = 0; step < 20 && !stop.getAsBoolean(); step++) {
                    Thread.sleep(20);
                }
            }
            System.out.println("blocking on " + fifo);
            System.out.flush();
            try (FileInputStream never = new FileInputStream(fifo.toFile())) {
                never.read();
            }
        }));
    }
}
