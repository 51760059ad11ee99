package neuron.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import neuron.engine.checkpoint.CheckpointListener;
import neuron.engine.nativeio.LibTorch;
import neuron.engine.torch.TensorTrees;
import org.bytedeco.javacpp.PointerScope;

import java.io.BufferedReader;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The engine's half of {@code bench/compare}, driven by {@code bench/compare.py} one repetition at a time so that
 * the engine's and PyTorch's repetitions interleave (a disk that slows down for a minute slows both). For each
 * state size it writes the state as {@code state-<MiB>.pth} (which PyTorch loads, so both sides save the identical
 * state dict) and answers {@code ready <MiB>}; then, per command on standard input, one line of JSON on standard
 * output with the times in seconds:
 * <ul>
 *   <li>{@code persist}: the loop's pause per snapshot (the hand-over of a lazy snapshot), the copy beside it, and
 *       the writer's persist (its own clock: temporary file, fsync, rename, directory fsync);</li>
 *   <li>{@code restore}: a restore of {@code state-<MiB>.pth} into the state's live tensors, as a resume does it
 *       (every CRC and every value checked, no file page left cached);</li>
 *   <li>{@code next}: the next size.</li>
 * </ul>
 *
 * <p>Usage: {@code EngineComparison <dir> <sizesMiB comma-separated>}.
 */
public final class EngineComparison {
    private EngineComparison() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 2) {
            System.err.println("usage: EngineComparison <dir> <sizesMiB,...>");
            System.exit(2);
        }
        Path dir = Path.of(args[0]);
        LibTorch.load();
        PrintStream out = new PrintStream(new FileOutputStream(FileDescriptor.out), true,
                StandardCharsets.UTF_8);
        System.setOut(System.err);   // nothing but answers on the protocol's stream
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        out.println("jdk " + System.getProperty("java.vm.name") + " " + System.getProperty("java.version"));
        for (String size : args[1].split(",")) {
            serve(dir, Integer.parseInt(size.trim()), in, out);
        }
    }

    private static void serve(Path dir, int mib, BufferedReader in, PrintStream out) throws Exception {
        ObjectMapper json = new ObjectMapper();
        try (PointerScope tensors = new PointerScope()) {
            Map<String, Object> tree = ModelShapedState.create(mib);
            long bytes = TensorTrees.bytes(tree);
            Path reference = dir.resolve("state-" + mib + ".pth");
            TensorTrees.save(reference, tree);
            Disk.fsync(reference);
            PersistClock clock = new PersistClock();
            Path checkpoint = dir.resolve("engine-" + mib + ".pth");
            try (Pipeline pipeline = Pipeline.open(checkpoint, bytes, true, clock)) {
                out.println("ready " + mib + " " + bytes);
                for (String command = in.readLine(); command != null && !command.equals("next"); command = in.readLine()) {
                    Map<String, Object> answer = new LinkedHashMap<>();
                    if (command.equals("persist")) {
                        // Checkpoints are hundreds of steps apart: the last is persisted and staging is ready again.
                        pipeline.awaitIdle();
                        // The loop's stall is the hand-over; the copy runs beside the loop's next forward and backward.
                        long started = System.nanoTime();
                        pipeline.handOver(tree);
                        long handedOver = System.nanoTime();
                        pipeline.awaitStaging();
                        long copied = System.nanoTime();
                        pipeline.awaitPersisted();
                        answer.put("pause_s", (handedOver - started) / 1e9);
                        answer.put("copy_s", (copied - started) / 1e9);
                        answer.put("persist_s", clock.lastNanos / 1e9);
                    } else if (command.equals("restore")) {
                        // A resume reads into the state it has allocated: the model exists before its weights are read.
                        long started = System.nanoTime();
                        Restore.intoLive(reference, tree);
                        answer.put("restore_s", (System.nanoTime() - started) / 1e9);
                    } else {
                        throw new IllegalArgumentException("unknown command: " + command);
                    }
                    out.println(json.writeValueAsString(answer));
                }
            }
            Files.deleteIfExists(checkpoint);
        }
    }

    /** The writer's own persist time of the last checkpoint. */
    private static final class PersistClock implements CheckpointListener {
        private volatile long lastNanos;

        @Override
        public void persisted(long step, Path path, long bytes, long persistNanos) {
            lastNanos = persistNanos;
        }
    }
}
