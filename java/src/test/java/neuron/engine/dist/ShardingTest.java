package neuron.engine.dist;

import neuron.engine.model.LlamaModel;
import neuron.engine.model.ModelConfig;
import neuron.engine.pth.PyOrderedDict;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The parts of data parallelism that are pure functions: ownership, buckets, flags, the manifest, merging. */
class ShardingTest {
    private static final ModelConfig TINY = ModelConfig.preset("tiny");
    private static final long ZLIB_CRC32_OF_ZERO = 0xabdef192L;

    @TempDir
    Path dir;

    @Test
    void ownershipDealsWholeParametersWithinOneOfAnEvenSplit() {
        long[] numels = DataParallelReplica.numels(TINY);
        long largest = Arrays.stream(numels).max().orElseThrow();
        for (int ranks = 1; ranks <= 5; ranks++) {
            Ownership o = Ownership.of(numels, ranks);
            long[] loads = o.loads(numels);
            long even = Arrays.stream(numels).sum() / ranks;
            for (long load : loads) {
                assertTrue(Math.abs(load - even) <= largest, ranks + " ranks: " + Arrays.toString(loads));
            }
            assertEquals(o.toString(), Ownership.of(numels, ranks).toString(), "the same on every rank");
        }
        assertEquals(Arrays.stream(numels).sum(), Ownership.of(numels, 1).loads(numels)[0], "alone: everything");
    }

    @Test
    void bucketsFollowTheBackwardOrderWithASmallFirstBucket() {
        List<List<Integer>> buckets = GradientBuckets.assign(new long[]{40, 10, 10, 30, 20}, 25, 50);
        assertEquals(List.of(List.of(4, 3), List.of(2, 1, 0)), buckets);
        assertEquals(List.of(List.of(1, 0)), GradientBuckets.assign(new long[]{1, 1}, 25, 50));
    }

    @Test
    void flagsWinOverTorchrunsEnvironment() {
        Map<String, String> env = Map.of("RANK", "1", "WORLD_SIZE", "4", "LOCAL_RANK", "1", "MASTER_ADDR", "10.0.0.1",
                "MASTER_PORT", "29400");
        DistConfig fromEnv = parse().toConfig(env);
        assertEquals(List.of(1, 4, 1, "10.0.0.1", 29400), List.of(fromEnv.rank(), fromEnv.worldSize(),
                fromEnv.localRank(), fromEnv.masterAddr(), fromEnv.masterPort()));
        DistConfig flags = parse("--rank", "3", "--master_port", "29401").toConfig(env);
        assertEquals(List.of(3, 29401), List.of(flags.rank(), flags.masterPort()));
        assertEquals(1, parse().toConfig(Map.of()).worldSize(), "alone without either");
        IllegalArgumentException bad = assertThrows(IllegalArgumentException.class,
                () -> parse().toConfig(Map.of("WORLD_SIZE", "two")));
        assertTrue(bad.getMessage().contains("WORLD_SIZE"), bad.getMessage());
        assertThrows(IllegalArgumentException.class, () -> parse().toConfig(Map.of("RANK", "4", "WORLD_SIZE", "4")));
        assertThrows(IllegalArgumentException.class, () -> parse("--nproc", "2", "--rank", "1").nproc());
    }

    @Test
    void aManifestListsShardsByNameSizeAndCrcAndCatchesAChangedShard() throws Exception {
        Files.writeString(dir.resolve("rank-0-of-2.pth"), "zero");
        Files.writeString(dir.resolve("rank-1-of-2.pth"), "one");
        List<ShardManifest.Shard> shards = new ArrayList<>();
        for (int r = 0; r < 2; r++) {
            Path f = dir.resolve(ShardLayout.shardName(r, 2));
            shards.add(ShardManifest.Shard.decode(new ShardManifest.Shard(r, f.getFileName().toString(),
                    Files.size(f), ShardManifest.fileCrc32(f)).encode()));
        }
        ShardManifest manifest = new ShardManifest(8, 2, shards);
        Files.write(dir.resolve(ShardManifest.FILE), manifest.toJson());
        ShardManifest read = ShardManifest.read(dir.resolve(ShardManifest.FILE));
        assertEquals(manifest, read);
        assertEquals(ZLIB_CRC32_OF_ZERO, read.shards().get(0).crc32(), "zlib.crc32(b'zero')");
        assertNull(read.mismatch(dir));
        Files.writeString(dir.resolve("rank-1-of-2.pth"), "two");   // same size, other bytes
        assertTrue(read.mismatch(dir).contains("CRC-32"), read.mismatch(dir));
        Files.delete(dir.resolve("rank-1-of-2.pth"));
        assertTrue(read.mismatch(dir).contains("missing"), read.mismatch(dir));
        Files.writeString(dir.resolve(ShardManifest.FILE), new String(manifest.toJson()).replace("rank-0-of-2.pth",
                "../rank-0-of-2.pth"));
        assertThrows(java.io.IOException.class, () -> ShardManifest.read(dir.resolve(ShardManifest.FILE)));
    }

    @Test
    void aNewerStepAResumePassedOverDoesNotPushOutTheRunsOwnSteps() throws Exception {
        ShardLayout layout = new ShardLayout(dir.resolve("miner.pth"));
        for (long step : new long[]{1000, 500, 600}) {   // 1000: a manifest over damaged shards, from before the resume
            Files.createDirectories(layout.stepDir(step));
            Files.write(layout.stepDir(step).resolve(ShardManifest.FILE), new byte[]{'{', '}'});
        }
        layout.retain(1, 500);
        assertTrue(Files.isDirectory(layout.stepDir(500)), "the run's newest complete step is kept");
        layout.retain(1, 600);
        assertTrue(Files.isDirectory(layout.stepDir(600)));
        assertTrue(Files.notExists(layout.stepDir(500)), "older than the newest kept");
        assertTrue(Files.isDirectory(layout.stepDir(1000)), "the passed-over step stays as evidence");
    }

    @Test
    void shardsMergeIntoTheOneProcessTreeOrSayWhatDoesNotFit() {
        List<String> names = List.copyOf(LlamaModel.shapes(TINY).keySet());
        Ownership owners = Ownership.of(DataParallelReplica.numels(TINY), 2);
        List<Map<String, Object>> shards = List.of(shard(0, names, owners), shard(1, names, owners));
        Map<String, Object> merged = ShardTrees.merge(shards);
        assertEquals(names, List.copyOf(((Map<?, ?>) merged.get("model_state_dict")).keySet()), "the model's order");
        Map<?, ?> state = (Map<?, ?>) ((Map<?, ?>) merged.get("optimizer_state_dict")).get("state");
        assertEquals(names.size(), state.size());
        assertEquals("m" + names.get(5), state.get(5L));
        assertEquals(List.of("global_step", "model_state_dict", "optimizer_state_dict", "scheduler_state_dict",
                "config", "seed"), List.copyOf(merged.keySet()));

        Map<String, Object> missing = shard(1, names, owners);
        Map<?, ?> held = (Map<?, ?>) missing.get("model_state_dict");
        held.remove(held.keySet().iterator().next());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ShardTrees.merge(List.of(shards.get(0), missing)));
        assertTrue(e.getMessage().startsWith("no shard holds parameter "), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> ShardTrees.merge(List.of(shards.get(1), shards.get(0))));

        Map<Object, Object> forRank0 = ShardTrees.forRank(shards.get(1), i -> owners.owner(i) == 0);
        assertTrue(((Map<?, ?>) ((Map<?, ?>) forRank0.get("optimizer_state_dict")).get("state")).isEmpty(),
                "rank 0 takes no moments of parameters rank 1 owned when it owns the same ones again");
    }

    /** A shard tree with names as its "tensors". */
    private static Map<String, Object> shard(int rank, List<String> names, Ownership owners) {
        PyOrderedDict params = new PyOrderedDict();
        Map<Object, Object> state = new LinkedHashMap<>();
        for (int i = 0; i < names.size(); i++) {
            if (owners.owner(i) == rank) {
                params.put(names.get(i), "p" + names.get(i));
                state.put((long) i, "m" + names.get(i));
            }
        }
        Map<String, Object> tree = new LinkedHashMap<>();
        tree.put("global_step", 8L);
        tree.put("model_state_dict", params);
        tree.put("optimizer_state_dict", new LinkedHashMap<>(Map.of("state", state, "param_groups", List.of())));
        tree.put("scheduler_state_dict", Map.of());
        tree.put("config", Map.of("model", TINY.toMap()));
        tree.put("seed", 3L);
        tree.put("shard", Map.of("rank", (long) rank, "world_size", 2L));
        return tree;
    }

    private static DistArguments parse(String... args) {
        return CommandLine.populateCommand(new DistArguments(), args);
    }
}
