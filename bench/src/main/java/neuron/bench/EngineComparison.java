package neuron.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import neuron.engine.checkpoint.CheckpointListener;
import neuron.engine.torch.TensorTrees;
import neuron.engine.nativeio.LibTorch;
import org.bytedeco.javacpp.PointerScope;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The engine's half of {@code bench/compare}: for each state size, writes the state as {@code state-<MiB>.pth}
 * (which the PyTorch half loads, so both sides save the identical state dict), then measures, after one
 * unmeasured round, the loop's pause per snapshot (the hand-over of a lazy snapshot) and the copy beside it, the
 * writer's persist time (its own clock, from the listener) and a restore of {@code state-<MiB>.pth} into the
 * state's tensors, as a resume does it. Writes the times, in seconds, as JSON.
 *
 * <p>Usage: {@code EngineComparison <dir> <sizesMiB comma-separated> <repetitions> <out.json>}.
 */
public final class EngineComparison {
    private EngineComparison() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 4) {
            System.err.println("usage: EngineComparison <dir> <sizesMiB,...> <repetitions> <out.json>");
            System.exit(2);
        }
        Path dir = Path.of(args[0]);
        int repetitions = Integer.parseInt(args[2]);
        LibTorch.load();
        List<Map<String, Object>> sizes = new ArrayList<>();
        for (String size : args[1].split(",")) {
            sizes.add(measure(dir, Integer.parseInt(size.trim()), repetitions));
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("jdk", System.getProperty("java.vm.name") + " " + System.getProperty("java.version"));
        out.put("sizes", sizes);
        new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(Path.of(args[3]).toFile(), out);
    }

    private static Map<String, Object> measure(Path dir, int mib, int repetitions) throws Exception {
        try (PointerScope tensors = new PointerScope()) {
            Map<String, Object> tree = ModelShapedState.create(mib);
            long bytes = TensorTrees.bytes(tree);
            Path reference = dir.resolve("state-" + mib + ".pth");
            TensorTrees.save(reference, tree);
            Disk.fsync(reference);

            List<Double> pause = new ArrayList<>();
            List<Double> copy = new ArrayList<>();
            List<Double> persist = new ArrayList<>();
            PersistClock clock = new PersistClock();
            Path checkpoint = dir.resolve("engine-" + mib + ".pth");
            try (Pipeline pipeline = Pipeline.open(checkpoint, bytes, true, clock)) {
                for (int round = 0; round <= repetitions; round++) {
                    // Checkpoints are hundreds of steps apart: the last is persisted and staging is ready again.
                    pipeline.awaitIdle();
                    // The loop's stall is the hand-over; the copy runs beside the loop's next forward and backward.
                    long started = System.nanoTime();
                    pipeline.handOver(tree);
                    long handedOver = System.nanoTime();
                    pipeline.awaitStaging();
                    long copied = System.nanoTime();
                    pipeline.awaitPersisted();
                    if (round > 0) {
                        pause.add((handedOver - started) / 1e9);
                        copy.add((copied - started) / 1e9);
                        persist.add(clock.lastNanos / 1e9);
                    }
                }
            }
            Files.deleteIfExists(checkpoint);

            // A resume reads into the state it has allocated (the model exists before its weights are read), from
            // disk: each restore drops the file's pages, as the writer does, and compare.py drops them before torch.load.
            List<Double> restore = new ArrayList<>();
            for (int round = 0; round <= repetitions; round++) {
                long started = System.nanoTime();
                Restore.intoLive(reference, tree);
                if (round > 0) {
                    restore.add((System.nanoTime() - started) / 1e9);
                }
            }
            Map<String, Object> result = new LinkedHashMap<>();
            result.put("mib", mib);
            result.put("bytes", bytes);
            result.put("file", reference.getFileName().toString());
            result.put("pause_s", pause);
            result.put("copy_s", copy);
            result.put("persist_s", persist);
            result.put("restore_s", restore);
            System.err.printf("engine %d MiB: pause %s s, persist %s s, restore %s s%n", mib, pause, persist, restore);
            return result;
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
