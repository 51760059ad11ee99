package neuron.engine.dist;

import neuron.engine.cli.Main;
import neuron.engine.miner.MinerRun;
import neuron.engine.nativeio.LibTorch;
import neuron.engine.testing.CheckpointScripts;
import neuron.engine.testing.NeuronProcess;
import neuron.engine.testing.PythonTorch;
import neuron.engine.testing.Slow;
import neuron.engine.torch.TensorTrees;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;

import static neuron.engine.dist.GroupRuns.awaitSuccess;
import static neuron.engine.dist.GroupRuns.copy;
import static neuron.engine.dist.GroupRuns.losses;
import static neuron.engine.dist.GroupRuns.start;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Data parallelism on loopback: 2 and 3 ranks (2 launched by {@code --nproc}, 3 one by one with {@code --rank} as on
 * several hosts, Gloo over TCP) train the global batch one process trains, to float tolerance; their sharded checkpoints resume with
 * another number of ranks (2 → 1, 1 → 2, 2 → 3) with every bit of the state restored.
 */
@Slow
class DataParallelTest {
    private static final int STEPS = 8;
    /**
     * Per-step loss tolerance. N ranks compute the same sums in another order: each rank's mean over its rows and
     * then the mean of the ranks' means, and gradients scaled by 1/N per rank then summed, instead of one mean
     * and one backward over the whole batch. Each differs from one process by float32 rounding (~1e-7 relative);
     * AdamW's m/√v amplifies it for elements whose gradient is near zero, and it compounds over the steps. Seen:
     * ≤ 1e-6 over 8 steps (the last digit the CSV prints); 1e-4 (≈ 2e-5 of a loss of 5.5) leaves room and still
     * fails any real error (a rank on the wrong rows, an unreduced or twice-reduced bucket, a parameter left to
     * the wrong owner), each of which moves the loss by 1e-3 or more within a few steps.
     */
    private static final double LOSS_TOLERANCE = 1e-4;
    /** Relative L2 distance of the final parameters from one process's, for the same reason. */
    private static final double PARAMETER_TOLERANCE = 1e-4;

    @TempDir
    static Path dir;

    @BeforeAll
    static void train() throws Exception {
        LibTorch.load();
        NeuronProcess two = start(dir.resolve("two"), "--nproc", "2", "--max_steps", "" + STEPS, "--metrics_csv",
                dir.resolve("two/loss.csv").toString());
        // 2 ranks x 3 micro-batches of 1 row: the rows of one 6-row batch, gradients reduced once per step
        NeuronProcess accumulating = start(dir.resolve("two-accumulating"), "--nproc", "2", "--batch_size", "2",
                "--grad_accum", "3", "--max_steps", "" + STEPS, "--metrics_csv",
                dir.resolve("two-accumulating/loss.csv").toString());
        List<NeuronProcess> three = GroupRuns.startRanks(dir.resolve("three"), 3, "--max_steps", "" + STEPS,
                "--metrics_csv", dir.resolve("three/loss.csv").toString());
        Files.createDirectories(dir.resolve("one"));
        assertEquals(0, Main.run(GroupRuns.miner(dir.resolve("one"), "--max_steps", "" + STEPS, "--metrics_csv",
                dir.resolve("one/loss.csv").toString())));
        awaitSuccess(two);
        awaitSuccess(accumulating);
        for (NeuronProcess rank : three) {
            awaitSuccess(rank);
        }
    }

    @Test
    void ranksTrainLikeOneProcess() throws Exception {
        double[] one = losses(dir.resolve("one/loss.csv"));
        assertEquals(STEPS, one.length);
        assertTrue(one[STEPS - 1] < one[0], "the tiny model learns");
        Map<?, ?> alone = TensorTrees.load(dir.resolve("one/m.pth"), MinerRun.PROGRESS_KEY);
        for (String ranks : new String[]{"two", "three", "two-accumulating"}) {
            double[] group = losses(dir.resolve(ranks + "/loss.csv"));
            assertEquals(STEPS, group.length, ranks);
            double largest = 0;
            for (int i = 0; i < STEPS; i++) {
                assertEquals(one[i], group[i], LOSS_TOLERANCE, ranks + " ranks, step " + (i + 1));
                largest = Math.max(largest, Math.abs(one[i] - group[i]));
            }
            System.out.println(ranks + " ranks: largest loss difference from one process " + largest);
            Path merged = dir.resolve(ranks + "-merged.pth");
            ShardMerge.merge(dir.resolve(ranks + "/m.pth"), OptionalLong.of(STEPS), merged);
            Map<?, ?> together = TensorTrees.load(merged, MinerRun.PROGRESS_KEY);
            if (!ranks.endsWith("accumulating")) {   // its config says 2 rows x 3 micro-batches
                assertEquals(alone.get("config"), together.get("config"));
            }
            assertEquals(alone.get("scheduler_state_dict"), together.get("scheduler_state_dict"));
            Map<?, ?> expected = (Map<?, ?>) alone.get("model_state_dict");
            Map<?, ?> actual = (Map<?, ?>) together.get("model_state_dict");
            assertEquals(expected.keySet(), actual.keySet());
            try (PointerScope scope = new PointerScope()) {
                for (Object name : expected.keySet()) {
                    Tensor e = (Tensor) expected.get(name);
                    Tensor a = (Tensor) actual.get(name);
                    double distance = a.sub(e).norm().item_double() / e.norm().item_double();
                    assertTrue(distance < PARAMETER_TOLERANCE, ranks + " ranks, " + name + ": relative distance "
                            + distance);
                }
            }
        }
    }

    /**
     * Each stage resumes the previous stage's checkpoint with another number of ranks and, with no step to take,
     * writes its final checkpoint at once: merged, it is byte for byte the one-process file of the same state.
     */
    @Test
    void checkpointsReshardBitExactly() throws Exception {
        Path twoToOne = dir.resolve("two-to-one");
        copy(dir.resolve("two/m.pth.shards"), twoToOne.resolve("m.pth.shards"));
        assertEquals(0, Main.run(GroupRuns.miner(twoToOne, "--max_steps", "" + STEPS)));
        byte[] single = Files.readAllBytes(twoToOne.resolve("m.pth"));
        assertArrayEquals(single, merged(dir.resolve("two"), "two"), "2 -> 1");

        Path oneToTwo = dir.resolve("one-to-two");
        Files.createDirectories(oneToTwo);
        Files.copy(twoToOne.resolve("m.pth"), oneToTwo.resolve("m.pth"));
        for (NeuronProcess rank : GroupRuns.startRanks(oneToTwo, 2, "--max_steps", "" + STEPS)) {
            awaitSuccess(rank);   // started one by one, rank 0 serving the store, as on two hosts
        }
        assertArrayEquals(single, merged(oneToTwo, "one-to-two"), "1 -> 2");

        Path twoToThree = dir.resolve("two-to-three");
        copy(oneToTwo.resolve("m.pth.shards"), twoToThree.resolve("m.pth.shards"));
        for (NeuronProcess rank : GroupRuns.startRanks(twoToThree, 3, "--max_steps", "" + STEPS)) {
            awaitSuccess(rank);
        }
        assertArrayEquals(single, merged(twoToThree, "two-to-three"), "2 -> 3");

        PythonTorch.assumeAvailable();
        Path step = twoToThree.resolve("m.pth.shards").resolve(String.format("step-%010d", STEPS));
        String out = PythonTorch.run(CheckpointScripts.LOAD + """
                import json, os, zlib
                step, merged = sys.argv[1], sys.argv[2]
                manifest = json.load(open(os.path.join(step, 'manifest.json')))
                whole = load(merged)
                params, moments = {}, {}
                for s in manifest['shards']:
                    path = os.path.join(step, s['file'])
                    data = open(path, 'rb').read()
                    assert len(data) == s['bytes'] and zlib.crc32(data) == s['crc32'], path
                    shard = load(path)
                    assert shard['shard'] == {'rank': s['rank'], 'world_size': 3}, shard['shard']
                    params.update(shard['model_state_dict'])
                    moments.update(shard['optimizer_state_dict']['state'])
                assert sorted(params) == sorted(whole['model_state_dict'])
                assert all(torch.equal(params[k], whole['model_state_dict'][k]) for k in params)
                assert sorted(moments) == sorted(whole['optimizer_state_dict']['state'])
                for i, m in moments.items():
                    w = whole['optimizer_state_dict']['state'][i]
                    assert all(torch.equal(m[k], w[k]) for k in ('step', 'exp_avg', 'exp_avg_sq'))
                print('ok', len(manifest['shards']), len(params), len(moments))
                """, step.toString(), twoToThree.resolve("merged/m.pth").toString());
        assertEquals("ok 3 39 39", out.strip());
    }

    /**
     * Merges the newest complete step of {@code stage}'s group into {@code stage/merged/m.pth} (the name the
     * one-process file has, as the archive inside is named after it); returns its bytes.
     */
    private static byte[] merged(Path stage, String what) throws Exception {
        Path out = Files.createDirectories(stage.resolve("merged")).resolve("m.pth");
        ShardMerge.Merged m = ShardMerge.merge(stage.resolve("m.pth"), OptionalLong.empty(), out);
        assertEquals(STEPS, m.step(), what);
        return Files.readAllBytes(out);
    }
}
