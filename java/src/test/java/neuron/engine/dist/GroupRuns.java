package neuron.engine.dist;

import neuron.engine.testing.NeuronProcess;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Miners of the tests: the tiny model, a global batch both 2 and 3 ranks split, small gradient buckets. */
final class GroupRuns {
    static final String[] COMMON = {"--seed", "3", "--batch_size", "6", "--seq_len", "32", "--warmup_steps", "3",
            "--checkpoint_interval", "4", "--bucket_cap_mb", "0.25"};

    /**
     * The ranks' JVMs (and a launcher's children, which inherit it) compile with C1 alone: a third less CPU for
     * these short runs on a shared machine, and nothing the tests check depends on it.
     */
    private static final Map<String, String> LIGHT_JVM = Map.of("JAVA_TOOL_OPTIONS",
            "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC");

    private GroupRuns() {
    }

    /**
     * {@code bin/neuron miner} arguments with the checkpoint {@code dir/m.pth}, staging below {@code dir} too; a flag
     * of {@link #COMMON} that {@code extra} gives takes {@code extra}'s value.
     */
    static String[] miner(Path dir, String... extra) {
        List<String> a = new ArrayList<>(List.of("miner", "--checkpoint_path", dir.resolve("m.pth").toString(),
                "--staging_dir", dir.resolve("staging").toString()));
        List<String> given = List.of(extra);
        for (int i = 0; i < COMMON.length; i += 2) {
            if (!given.contains(COMMON[i])) {
                a.addAll(List.of(COMMON[i], COMMON[i + 1]));
            }
        }
        a.addAll(List.of(extra));
        return a.toArray(String[]::new);
    }

    /** A miner (a launcher, with {@code --nproc}) in a JVM of its own, logging to {@code dir/log}. */
    static NeuronProcess start(Path dir, String... extra) throws IOException {
        Files.createDirectories(dir);
        return NeuronProcess.start(dir, dir.resolve("log"), LIGHT_JVM, miner(dir, extra));
    }

    /**
     * The ranks of a group started one by one, as on several hosts: {@code --rank r --world_size n} and rank 0
     * serving the store on a port free a moment ago; rank r logs to {@code dir/log-r}.
     */
    static List<NeuronProcess> startRanks(Path dir, int n, String... extra) throws IOException {
        Files.createDirectories(dir);
        int port;
        try (ServerSocket probe = new ServerSocket(0)) {
            port = probe.getLocalPort();
        }
        List<NeuronProcess> ranks = new ArrayList<>();
        for (int r = 0; r < n; r++) {
            List<String> args = new ArrayList<>(List.of(miner(dir, extra)));
            args.addAll(List.of("--rank", "" + r, "--world_size", "" + n, "--master_port", "" + port));
            ranks.add(NeuronProcess.start(dir, dir.resolve("log-" + r), LIGHT_JVM, args.toArray(String[]::new)));
        }
        return ranks;
    }

    static void awaitSuccess(NeuronProcess p) throws IOException, InterruptedException {
        assertEquals(0, p.await(600), p.log());
    }

    /** The losses of {@code --metrics_csv}, one per step from step 1. */
    static double[] losses(Path csv) throws IOException {
        return Files.readAllLines(csv).stream().skip(1).mapToDouble(l -> Double.parseDouble(l.split(",")[1])).toArray();
    }

    /** Copies a directory tree. */
    static void copy(Path from, Path to) throws IOException {
        try (Stream<Path> walk = Files.walk(from)) {
            for (Path p : walk.sorted(Comparator.naturalOrder()).toList()) {
                Path target = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(p, target);
                }
            }
        }
    }
}
