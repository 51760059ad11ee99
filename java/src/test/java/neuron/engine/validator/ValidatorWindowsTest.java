package neuron.engine.validator;

import neuron.engine.model.BuiltinCorpus;
import neuron.engine.nativeio.LibTorch;
import neuron.engine.network.Commitment;
import neuron.engine.network.Hash32;
import neuron.engine.network.ModelHash;
import neuron.engine.network.Submission;
import neuron.engine.network.SubmissionStore;
import neuron.engine.testing.SpecialFiles;
import neuron.engine.torch.TensorTrees;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A validator driven block by block with the commitments miners made: what counts for a window, how each kind of
 * update scores, how the base moves (one window of lag), and that its checkpoint brings all of it back.
 */
class ValidatorWindowsTest {
    private static final int BLOCKS_PER_WINDOW = 5;
    private static final ValidatorConfig CONFIG = ValidatorConfig.of(Updates.TINY, 0, BuiltinCorpus.SOURCE,
            BLOCKS_PER_WINDOW, 1);
    /** README: "scores[uid] = 0.85·scores[uid] + 0.15·score". */
    private static final double DOCUMENTED_ALPHA = 0.85;

    @TempDir
    Path dir;

    /** README: "The validator evaluates window w at block (w+1)·B + 1". */
    private static long evaluatedAt(long window) {
        return (window + 1) * BLOCKS_PER_WINDOW + 1;
    }

    @BeforeAll
    static void torch() {
        LibTorch.load();
    }

    @Test
    void onlyRealTrainingScoresAndTheBaseMovesByTheAcceptedUpdatesOneWindowLater() throws Exception {
        Path storeDir = dir.resolve("store");
        Path archive = dir.resolve("archive");
        SubmissionStore miners = SubmissionStore.at(storeDir);
        Map<String, Tensor> b0 = Updates.firstBase();
        Hash32 base0 = ModelHash.of(b0);
        Map<String, Tensor> honest = Updates.trained(b0, 1, 0, 30);
        Hash32 honestHash = miners.put(Submission.tree(1, 0, base0, honest));
        Hash32 noiseOf1 = miners.put(Submission.tree(1, 0, base0, Updates.noise(b0, 11)));
        Hash32 zero = miners.put(Submission.tree(2, 0, base0, Updates.zeros(b0)));
        Hash32 noise = miners.put(Submission.tree(3, 0, base0, Updates.noise(b0, 3)));
        Hash32 missing = Hash32.sha256("never uploaded".getBytes());
        // a valid update, but the store holds it as a symbolic link to a file elsewhere
        SubmissionStore elsewhere = SubmissionStore.at(dir.resolve("elsewhere"));
        Hash32 linked = elsewhere.put(Submission.tree(5, 0, base0, honest));
        Files.createSymbolicLink(miners.path(linked), elsewhere.path(linked));
        // under uid 10's hash the store holds a FIFO, which a reader would block on until a writer came
        Hash32 fifo = Hash32.sha256("a fifo".getBytes());
        SpecialFiles.fifo(miners.path(fifo));
        // the store's file under uid 6's hash holds other bytes than those committed
        Hash32 swapped = miners.put(Submission.tree(6, 0, base0, honest));
        Files.copy(miners.path(zero), miners.path(swapped), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        Hash32 outOfSync = miners.put(Submission.tree(7, 0, Hash32.sha256("another base".getBytes()), honest));
        Map<String, Object> unparsable = Submission.tree(8, 0, base0, honest);
        unparsable.put("uid", "eight");
        Hash32 badValue = miners.put(unparsable);
        Hash32 bigUid = miners.put(Submission.tree(300, 0, base0, honest));
        Hash32 late = miners.put(Submission.tree(9, 0, base0, honest));
        // a name a store listing would have choked on: nobody lists the store any more
        Files.writeString(storeDir.resolve("w0-uid99999999999999999999.pth"), "not even a checkpoint");

        List<List<Commitment>> chain = new ArrayList<>();
        for (int b = 0; b < 4 * BLOCKS_PER_WINDOW; b++) {
            chain.add(new ArrayList<>());
        }
        chain.get(1).add(Updates.update(1, 0, noiseOf1));
        chain.get(2).addAll(List.of(Updates.update(1, 0, honestHash), Updates.update(2, 0, zero),
                Updates.update(3, 0, noise), Updates.update(4, 0, missing), Updates.update(5, 0, linked),
                Updates.update(6, 0, swapped), Updates.update(7, 0, outOfSync), Updates.update(8, 0, badValue),
                Updates.update(300, 0, bigUid), Updates.update(10, 0, fifo), new Commitment(Commitment.Kind.AGGREGATE, 2, 0, honestHash)));
        chain.get(BLOCKS_PER_WINDOW).add(Updates.update(9, 0, late));  // window 0's update in a block of window 1

        SubmissionStore store = SubmissionStore.archiving(storeDir, archive);
        List<Validator.Evaluated> evaluated = new ArrayList<>();
        Map<Long, String> baseAfter = new LinkedHashMap<>();
        try (Validator v = Validator.create(CONFIG, "cpu")) {
            assertEquals(base0.toHex(), v.state().get("base_hash"), "every node starts from the seed's model");
            for (int b = 0; b < 3 * BLOCKS_PER_WINDOW; b++) {
                v.onBlock(Updates.block(b, chain.get(b)), store, evaluated::add);
                baseAfter.put((long) b, (String) v.state().get("base_hash"));
            }
            assertEquals(List.of(0L, 1L), evaluated.stream().map(Validator.Evaluated::window).toList());
            assertEquals(evaluatedAt(0), evaluated.get(0).block());

            Map<Integer, WindowEvaluator.Status> status = new TreeMap<>();
            evaluated.get(0).outcomes().forEach(o -> status.put(o.uid(), o.status()));
            assertEquals(Map.of(1, WindowEvaluator.Status.ACCEPTED, 2, WindowEvaluator.Status.NOT_BETTER,
                    3, WindowEvaluator.Status.NOT_BETTER, 4, WindowEvaluator.Status.INVALID,
                    5, WindowEvaluator.Status.INVALID, 6, WindowEvaluator.Status.INVALID,
                    7, WindowEvaluator.Status.OUT_OF_SYNC, 8, WindowEvaluator.Status.INVALID,
                    10, WindowEvaluator.Status.INVALID, 300, WindowEvaluator.Status.INVALID), status,
                    "the last update per uid counts; the late one of uid 9 does not; " + evaluated.get(0).outcomes());
            WindowEvaluator.Outcome one = evaluated.get(0).outcomes().get(0);
            assertEquals(honestHash, one.hash());
            assertTrue(one.ownGain() > one.otherGain() && one.otherGain() > 0, one.toString());
            assertEquals(one.otherGain(), one.score());
            assertTrue(evaluated.get(1).outcomes().isEmpty());

            // the archive holds bytes, never a link or a FIFO (both were refused, neither followed nor opened)
            try (Stream<Path> files = Files.list(archive)) {
                files.forEach(f -> assertFalse(Files.isSymbolicLink(f) || (Files.exists(f) && !Files.isRegularFile(f)),
                        f + " is a link or a special file"));
            }
            assertTrue(Files.exists(archive.resolve(honestHash.toHex().substring(2) + ".pth")));

            // B(1) = B(0): the base of window 1 is the seed's; A(0) (uid 1's update alone) makes B(2)
            Hash32 base2 = ModelHash.of(b0, honest);
            assertEquals(base0.toHex(), baseAfter.get(evaluatedAt(0)));
            assertEquals(base2.toHex(), v.state().get("pending_base_hash"), "A(0) waits for the next evaluation");
            assertEquals(base2, evaluated.get(0).baseAfterAggregate());
            assertEquals(base2.toHex(), baseAfter.get(evaluatedAt(1)), "B(2) = B(1) + A(0)");
            assertNull(evaluated.get(1).aggregate(), "nothing accepted in window 1: a zero aggregate");

            // the score is a moving average over every window: uid 1 decays once it stops
            float first = (float) ((1 - DOCUMENTED_ALPHA) * one.score());
            assertEquals(first * DOCUMENTED_ALPHA, v.scores().get(1), 1e-7);
            assertEquals(java.util.Set.of(1), v.scores().keySet(), "only uid 1 scored");
            assertEquals(Map.of(1, 1.0), v.weights());

            // its checkpoint (the seed document's keys and the protocol's) brings back a validator that goes on alike
            for (String key : List.of("model_state_dict", "global_step", "scores", "weights", "block", "base_hash",
                    "pending_aggregate", "pending_base_hash", "commitments", "next_window")) {
                assertTrue(v.state().containsKey(key), key);
            }
            v.onBlock(Updates.block(15, List.of(Updates.update(1, 3, honestHash))), store, evaluated::add);
            Path file = dir.resolve("validator.pth");
            TensorTrees.save(file, v.state());
            Map<?, ?> saved = TensorTrees.load(file, ValidatorRun.PROGRESS_KEY);
            try (Validator restored = Validator.restore(saved, CONFIG, "cpu")) {
                assertEquals(List.of(), ValidatorReplay.differences(saved, restored.state()));
                for (int b = 16; b < 4 * BLOCKS_PER_WINDOW + 2; b++) {
                    v.onBlock(Updates.block(b, List.of()), store, e -> { });
                    restored.onBlock(Updates.block(b, List.of()), store, e -> { });
                }
                assertEquals(List.of(), ValidatorReplay.differences(v.state(), restored.state()));
                assertEquals(4L, restored.globalStep());
            }
        }
    }

    @Test
    void weightsGoOnTheChainAsU16ValuesSummingTo65535() {
        assertEquals(Map.of(1, 21845, 2, 21845, 3, 21845), ValidatorDuties.u16(Map.of(1, 1.0 / 3, 2, 1.0 / 3, 3, 1.0 / 3)));
        SortedMap<Integer, Integer> uneven = ValidatorDuties.u16(Map.of(4, 0.5, 7, 0.3, 9, 0.2, 11, 1e-9));
        assertEquals(65_535, uneven.values().stream().mapToInt(Integer::intValue).sum());
        assertEquals(List.of(4, 7, 9), List.copyOf(uneven.keySet()), "a share that rounds to nothing is left out");
        assertEquals(Map.of(), ValidatorDuties.u16(Map.of(1, 0.0, 2, -1.0)));
        assertNotEquals(0, ValidatorDuties.u16(Map.of(5, 1.0)).get(5));
    }
}
