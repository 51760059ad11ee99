package neuron.engine.validator;

import neuron.engine.chain.Follow;
import neuron.engine.chain.WsChainClient;
import neuron.engine.chain.local.ChainServer;
import neuron.engine.chain.local.LocalChain;
import neuron.engine.cli.Main;
import neuron.engine.journal.BlockJournal;
import neuron.engine.journal.Evaluation;
import neuron.engine.journal.JournalCursor;
import neuron.engine.nativeio.LibTorch;
import neuron.engine.network.Commitment;
import neuron.engine.network.Hash32;
import neuron.engine.network.ModelHash;
import neuron.engine.testing.NeuronProcess;
import neuron.engine.testing.Seeds;
import neuron.engine.testing.Slow;
import neuron.engine.torch.TensorTrees;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.HashSet;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * THE determinism test: on one chain and one store, with real miners (honest and noisy) committing every window,
 * a validator running from the start, one started late (it catches up through the chain's history by number and
 * the store) and one SIGKILLed at three random moments of its own progress (it replays its journal each time),
 * all while two busy-loop processes compete for the cores, hold bit-identical state at the same block: model,
 * pending aggregate, scores, weights, global_step, every window's evaluations. Then the replay tool rebuilds the
 * validator's checkpoint from its oldest backup exactly. {@code -Dneuron.determinism.seed} repeats a run's kill
 * moments; {@code -Dneuron.determinism.blocks} sets its length.
 */
@Slow
@ExtendWith(Seeds.class)
@Timeout(value = 45, unit = TimeUnit.MINUTES) // its run may take RUN_PATIENCE on busy cores
class ValidatorDeterminismTest {
    private static final long BLOCK_TIME_MS = 200;
    /** How long the chain waits at most for the honest miner's update before it closes a window. */
    private static final long MINER_PATIENCE_MS = 10_000;
    private static final int BLOCKS_PER_WINDOW = 10;
    private static final long UNTIL = Long.getLong("neuron.determinism.blocks", 320);
    private static final long CHECKPOINT_INTERVAL = 20;
    private static final Duration PATIENCE = Duration.ofMinutes(4);
    /** The whole run, start-ups included, on a machine that is busy by design. */
    private static final Duration RUN_PATIENCE = Duration.ofMinutes(20);

    @TempDir
    Path dir;

    private final List<Process> hogs = new ArrayList<>();
    private final List<NeuronProcess> children = new ArrayList<>();

    @BeforeAll
    static void torch() {
        LibTorch.load();
    }

    @AfterEach
    void stopEverything() throws InterruptedException {
        hogs.forEach(Process::destroyForcibly);
        for (NeuronProcess child : children) {
            child.process().destroy();
        }
        for (NeuronProcess child : children) {
            if (!child.process().waitFor(30, java.util.concurrent.TimeUnit.SECONDS)) {
                child.kill();
            }
        }
    }

    private String[] validator(String name, int uid, String chain) {
        return new String[]{"validator", "--chain", chain, "--uid", Integer.toString(uid),
                "--blocks_per_window", Integer.toString(BLOCKS_PER_WINDOW),
                "--checkpoint_path", dir.resolve(name + ".pth").toString(),
                "--journal_dir", dir.resolve(name + ".journal").toString(),
                "--staging_dir", dir.resolve(name + ".staging").toString(), "--submissions", store().toString(),
                "--until_block", Long.toString(UNTIL), "--checkpoint_interval", Long.toString(CHECKPOINT_INTERVAL)};
    }

    private String[] miner(int uid, String submit, String chain) {
        return new String[]{"miner", "--chain", chain, "--uid", Integer.toString(uid), "--submit", submit,
                "--blocks_per_window", Integer.toString(BLOCKS_PER_WINDOW), "--submissions", store().toString(),
                "--checkpoint_path", dir.resolve("miner-" + uid + ".pth").toString(),
                "--staging_dir", dir.resolve("miner-" + uid + ".staging").toString(),
                "--batch_size", submit.equals("trained") ? "8" : "1", "--warmup_steps", "1", "--lr", "2e-3",
                "--checkpoint_interval", "100000"};
    }

    private Path store() {
        return dir.resolve("store");
    }

    private NeuronProcess start(String log, String... args) throws Exception {
        NeuronProcess p = NeuronProcess.start(dir, dir.resolve(log), args);
        children.add(p);
        return p;
    }

    @Test
    void validatorsThatStartLateOrCrashAgreeBitForBitWhileTheCoresAreBusy() throws Exception {
        long seed = Seeds.of("neuron.determinism.seed");
        Random random = new Random(seed);
        for (int i = 0; i < 2; i++) {
            hogs.add(new ProcessBuilder("/bin/sh", "-c", "while :; do :; done").start());
        }
        LocalChain blocks = LocalChain.onDemand("determinism");
        try (ChainServer server = ChainServer.start(blocks, new InetSocketAddress("127.0.0.1", 0))) {
            String chain = server.uri().toString();
            start("miner-1.log", miner(1, "trained", chain));
            start("miner-3.log", miner(3, "noise", chain));
            NeuronProcess straight = start("straight.log", validator("straight", 0, chain));
            List<NeuronProcess> crashed = new ArrayList<>(List.of(start("crashed-1.log", validator("crashed", 11, chain))));
            NeuronProcess late = null;
            List<Long> killAt = new ArrayList<>();
            long third = UNTIL / 3;
            for (int k = 0; k < 3; k++) {
                killAt.add(k * third + 10 + random.nextInt((int) third - 20));
            }
            System.out.println("determinism run: seed " + seed + ", kills at blocks " + killAt + " of its progress");
            long begun = System.nanoTime();
            Set<Long> leadAggregates = new HashSet<>();
            Set<Long> honestUpdates = new HashSet<>();
            long scanned = 0;
            long lastMade = System.nanoTime();
            long nextOdd = 1;
            long deadline = System.nanoTime() + RUN_PATIENCE.toNanos();
            while (straight.process().isAlive() || late == null || late.process().isAlive()
                    || crashed.get(crashed.size() - 1).process().isAlive()) {
                long head = blocks.head();
                // what blocks include, and what the next one will include so far
                for (; scanned <= head + 1; scanned++) {
                    for (Commitment c : blocks.block(scanned).commitments()) {
                        if (c.kind() == Commitment.Kind.AGGREGATE && c.uid() == 0) {
                            leadAggregates.add(c.window());
                        } else if (c.kind() == Commitment.Kind.UPDATE && c.uid() == 1) {
                            honestUpdates.add(c.window());
                        }
                    }
                }
                scanned = head + 1;
                // A block every BLOCK_TIME_MS, except that the chain waits, as a slow network's participants would
                // want it to on a machine this busy: for the lead validator's aggregate that a window's base needs,
                // and (up to MINER_PATIENCE_MS) for the honest miner's update before the window's last block.
                long next = head + 1;
                long window = next / BLOCKS_PER_WINDOW;
                boolean baseReady = window < 2 || leadAggregates.contains(window - 2);
                boolean updateIn = next % BLOCKS_PER_WINDOW != BLOCKS_PER_WINDOW - 1 || honestUpdates.contains(window)
                        || System.nanoTime() - lastMade > MINER_PATIENCE_MS * 1_000_000;
                if (System.nanoTime() - lastMade >= BLOCK_TIME_MS * 1_000_000 && head <= UNTIL + BLOCKS_PER_WINDOW
                        && baseReady && updateIn) {
                    blocks.makeBlock();
                    lastMade = System.nanoTime();
                }
                if (nextOdd * BLOCKS_PER_WINDOW < UNTIL && head >= nextOdd * BLOCKS_PER_WINDOW + 2) {
                    // besides the miners: an update whose file never reached the store, and one a window late
                    blocks.commit(new Commitment(Commitment.Kind.UPDATE, 5, nextOdd, Hash32.sha256(("never" + nextOdd).getBytes())));
                    blocks.commit(new Commitment(Commitment.Kind.UPDATE, 6, nextOdd - 1, Hash32.sha256(("late" + nextOdd).getBytes())));
                    nextOdd += 3;
                }
                if (late == null && head >= UNTIL / 2) {
                    late = start("late.log", validator("late", 10, chain));
                }
                NeuronProcess current = crashed.get(crashed.size() - 1);
                if (crashed.size() <= 3 && current.process().isAlive()
                        && progress(current) >= killAt.get(crashed.size() - 1)) {
                    Thread.sleep(random.nextInt((int) (3 * BLOCK_TIME_MS)));
                    current.kill();
                    crashed.add(start("crashed-" + (crashed.size() + 1) + ".log", validator("crashed", 11, chain)));
                }
                if (System.nanoTime() > deadline) {
                    throw new AssertionError("the validators did not reach block " + UNTIL + " within " + RUN_PATIENCE
                            + "; logs in " + dir);
                }
                Thread.sleep(20);
            }
            for (NeuronProcess v : List.of(straight, late, crashed.get(crashed.size() - 1))) {
                assertEquals(0, v.await(PATIENCE.toSeconds()), v.log());
            }
            assertEquals(4, crashed.size(), "three kills, each followed by a restart (seed " + seed + ")");
            System.out.printf("determinism run: all three at block %d after %.0f s%n", UNTIL,
                    (System.nanoTime() - begun) / 1e9);
            List<Long> replayed = new ArrayList<>();
            for (NeuronProcess run : crashed.subList(1, crashed.size())) {
                replayed.addAll(NeuronProcess.all(run.log(), "replayed (\\d+) journaled blocks"));
            }
            String lateLog = late.log();
            assertTrue(lateLog.contains("validator starting fresh") && lateLog.contains("fetching blocks 0.."),
                    "the late validator starts at the chain's first block and catches up by number");

            Map<?, ?> expected = TensorTrees.load(dir.resolve("straight.pth"), "block");
            assertEquals(UNTIL, expected.get("block"));
            for (String name : List.of("late", "crashed")) {
                Map<?, ?> actual = TensorTrees.load(dir.resolve(name + ".pth"), "block");
                assertEquals(List.of(), ValidatorReplay.differences(expected, actual),
                        name + " differs from the validator that ran from the start (seed " + seed + ")");
                assertEquals(evaluations("straight"), evaluations(name), name + "'s evaluations, window by window");
            }
            // and what they agree on is a network at work, not an empty run
            assertTrue((Long) expected.get("global_step") >= UNTIL / BLOCKS_PER_WINDOW - 1, "windows were evaluated");
            assertTrue(((Tensor) expected.get("scores")).get(1).item_float() > 0, "the honest miner scored");
            assertNotEquals(ModelHash.of(Updates.firstBase()).toHex(), expected.get("base_hash"), "the base moved");
            assertTrue(replayed.stream().anyMatch(n -> n > 0), "a restart replayed journaled blocks: " + replayed);

            // the replay tool rebuilds the newest checkpoint from the oldest backup through the journal...
            String[] verify = {"replay", "--journal_dir", dir.resolve("straight.journal").toString(),
                    "--checkpoint_path", dir.resolve("straight.pth").toString(), "--submissions", store().toString(),
                    "--verify"};
            String report = captured(verify);
            assertTrue(report.startsWith("exit 0") && report.contains("differences: []"), report);
            // ... from what it archived, whatever the store holds now ...
            try (var files = Files.list(store())) {
                for (Path f : files.filter(f -> f.toString().endsWith(".pth")).toList()) {
                    Files.writeString(f, "rewritten after the evaluation");
                }
            }
            String rewritten = captured(verify);
            assertTrue(rewritten.startsWith("exit 0") && rewritten.contains("differences: []"), rewritten);
            // ... and a checkpoint that does not match its journal is reported, difference by difference
            Map<String, Object> altered = new LinkedHashMap<>();
            expected.forEach((k, v) -> altered.put((String) k, v));
            altered.put("scores", ((Tensor) altered.get("scores")).add(new Scalar(1.0)));
            TensorTrees.save(dir.resolve("straight.pth"), altered);
            String tampered = captured(verify);
            assertTrue(tampered.startsWith("exit 1") && tampered.contains("/scores: tensors differ"), tampered);

            try (WsChainClient client = WsChainClient.open(server.uri(), Follow.BEST)) {
                client.awaitHead(0, Duration.ofSeconds(10));
                assertTrue(client.weights(0).orElseThrow().values().getOrDefault(1, 0) > 0,
                        "the straight validator's weights are on the chain");
            }
        }
    }

    /** The last block a validator's run says it evaluated a window at (a replay says so too); -1 before any. */
    private static long progress(NeuronProcess validator) throws java.io.IOException {
        return NeuronProcess.all(validator.log(), "evaluated at block (\\d+)").stream().mapToLong(Long::longValue)
                .max().orElse(-1);
    }

    /** The evaluations each validator's journal holds, by window (the last list per window). */
    private Map<Long, List<String>> evaluations(String name) {
        Map<Long, List<String>> byWindow = new TreeMap<>();
        try (BlockJournal journal = BlockJournal.open(dir.resolve(name + ".journal"));
             JournalCursor cursor = journal.replay(-1, Long.MAX_VALUE)) {
            Map<Long, List<String>> current = new TreeMap<>();
            while (cursor.next()) {
                for (Evaluation e : cursor.evaluations()) {
                    current.computeIfAbsent(e.window(), w -> new ArrayList<>()).add(e.toString());
                }
                // a window begun before a kill and evaluated again after it: its last list counts
                cursor.windowsEvaluated().forEach(w -> {
                    List<String> all = current.getOrDefault(w.window(), List.of());
                    byWindow.put(w.window(), List.copyOf(all.subList(all.size() - w.evaluations(), all.size())));
                    current.remove(w.window());
                });
            }
        }
        return byWindow;
    }

    private static String captured(String... args) {
        PrintStream out = System.out;
        ByteArrayOutputStream buffer = new ByteArrayOutputStream();
        System.setOut(new PrintStream(buffer, true));
        try {
            int status = Main.run(args);
            return "exit " + status + "\n" + buffer;
        } finally {
            System.setOut(out);
        }
    }
}
