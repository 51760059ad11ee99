package neuron.engine.checkpoint;

import neuron.engine.testing.Slow;
import neuron.engine.torch.TensorTreeSource;
import neuron.engine.torch.TensorTrees;
import neuron.engine.nativeio.LibTorch;
import neuron.engine.nativeio.NativeFile;
import neuron.engine.pth.PyOrderedDict;
import neuron.engine.testing.CheckpointScripts;
import neuron.engine.testing.ChildJvm;
import neuron.engine.testing.PythonTorch;
import neuron.engine.testing.Required;
import neuron.engine.testing.SpecialFiles;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.bytedeco.pytorch.global.torch.arange;
import static org.bytedeco.pytorch.global.torch.equal;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Slow
class CheckpointerTest {
    private static final Duration WAIT = Duration.ofMinutes(2);
    private static final CheckpointPolicy EVERY_STEP = new CheckpointPolicy(1);

    @TempDir
    Path dir;

    @BeforeAll
    static void torch() {
        LibTorch.load();
    }

    /** A miner-shaped state whose tensors change with the step. */
    static Map<String, Object> state(long step) {
        PyOrderedDict model = new PyOrderedDict();
        model.put("model.embed_tokens.weight", arange(new org.bytedeco.pytorch.Scalar(0),
                new org.bytedeco.pytorch.Scalar(3 * 1024)).reshape(3, 1024).to(org.bytedeco.pytorch.global.torch.ScalarType.Float).add(new org.bytedeco.pytorch.Scalar((double) step)));
        model.put("lm_head.weight", arange(new org.bytedeco.pytorch.Scalar(5)).to(org.bytedeco.pytorch.global.torch.ScalarType.Long).mul(new org.bytedeco.pytorch.Scalar(step)));
        Map<String, Object> tree = new LinkedHashMap<>();
        tree.put("global_step", step);
        tree.put("model_state_dict", model);
        tree.put("seed", 7L);
        return tree;
    }

    static StateSource source(Map<String, Object> tree) {
        return TensorTreeSource.of(() -> tree);
    }

    private Checkpointer open(Path ckpt) throws Exception {
        return Checkpointer.open(new CheckpointConfig(ckpt, 2, dir.resolve("staging")), EVERY_STEP, 1 << 20,
                "global_step", CheckpointListener.NONE);
    }

    @Test
    void snapshotsArePersistedAsRealCheckpointsWithBackups() throws Exception {
        Path ckpt = dir.resolve("miner_checkpoint.pth");
        List<Long> persisted = new ArrayList<>();
        try (Checkpointer c = Checkpointer.open(new CheckpointConfig(ckpt, 2, dir.resolve("staging")), EVERY_STEP, 1 << 20,
                "global_step", new CheckpointListener() {
                    @Override
                    public void persisted(long step, Path path, long bytes, long nanos) {
                        persisted.add(step);
                    }
                })) {
            for (long step = 500; step <= 2000; step += 500) {
                assertTrue(c.snapshot(step, source(state(step))) || c.backlog() > 0);
                c.awaitPersisted(step, WAIT);
            }
        }
        assertEquals(List.of(500L, 1000L, 1500L, 2000L), persisted);
        assertEquals(2000, CheckpointLoader.load(ckpt, "global_step", StoredCheckpoint::progress));
        Map<?, ?> model = (Map<?, ?>) TensorTrees.load(ckpt, "global_step").get("model_state_dict");
        Map<String, Object> expected = state(2000);
        Map<?, ?> expectedModel = (Map<?, ?>) expected.get("model_state_dict");
        for (Object key : expectedModel.keySet()) {
            assertTrue(equal((Tensor) model.get(key), (Tensor) expectedModel.get(key)), key + " round-trips");
        }
        assertEquals(1500, CheckpointLoader.load(ckpt.resolveSibling("miner_checkpoint.pth.1"), "global_step", StoredCheckpoint::progress));
        assertEquals(1000, CheckpointLoader.load(ckpt.resolveSibling("miner_checkpoint.pth.2"), "global_step", StoredCheckpoint::progress));
        assertFalse(Files.exists(ckpt.resolveSibling("miner_checkpoint.pth.tmp")));
        assertEquals(0, StagingFiles.count(dir.resolve("staging")), "a clean stop gives all staging memory back");

        PythonTorch.assumeAvailable();
        String out = PythonTorch.run(CheckpointScripts.LOAD_AND_PRINT, ckpt.toString(), "global_step");
        assertTrue(out.contains("global_step=2000"), out);
    }

    @Test
    void aFailedPersistIsLoggedTheOldCheckpointStaysAndTheNextTriggerSucceeds() throws Exception {
        Path ckpt = dir.resolve("c.pth");
        Path tmp = ckpt.resolveSibling("c.pth.tmp");
        try (Checkpointer c = open(ckpt)) {
            c.snapshot(1, source(state(1)));
            c.awaitPersisted(1, WAIT);
            // Something the writer cannot remove takes the temporary file's place as it is about to be created.
            NativeFile.beforeOpen(p -> {
                if (p.equals(tmp)) {
                    SpecialFiles.replace(tmp, () -> SpecialFiles.nonEmptyDirectory(tmp));
                }
            });
            c.snapshot(2, source(state(2)));
            java.io.IOException failure = assertThrows(java.io.IOException.class, () -> c.awaitPersisted(2, WAIT));
            assertTrue(failure.getMessage().contains("cannot create " + tmp + ": File exists"), failure.getMessage());
            assertEquals(1, CheckpointLoader.load(ckpt, "global_step", StoredCheckpoint::progress), "the previous checkpoint is intact");
            NativeFile.beforeOpen(null);
            Files.delete(tmp.resolve("keep.txt"));
            Files.delete(tmp);
            c.snapshot(3, source(state(3)));
            c.awaitPersisted(3, WAIT);
        } finally {
            NativeFile.beforeOpen(null);
        }
        assertEquals(3, CheckpointLoader.load(ckpt, "global_step", StoredCheckpoint::progress));
    }

    @Test
    void aFullDiskIsNamedByItsErrnoTheOldCheckpointStaysAndTheNextTriggerSucceeds() throws Exception {
        Path disk = dir.resolve("small-disk");
        Files.createDirectories(disk);
        // A file system with room for a small checkpoint and its backups but not for a large one: a real ENOSPC.
        Required.tool(run("mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", disk.toString()) == 0,
                "mounting a 4 MiB tmpfs for a real full disk (needs root)");
        try {
            Path ckpt = disk.resolve("c.pth");
            try (Checkpointer c = Checkpointer.open(new CheckpointConfig(ckpt, 2, dir.resolve("staging")),
                    EVERY_STEP, 1 << 20, "global_step", CheckpointListener.NONE)) {
                c.snapshot(1, source(state(1)));
                c.awaitPersisted(1, WAIT);
                Map<String, Object> large = state(2);
                ((PyOrderedDict) large.get("model_state_dict")).put("model.norm.weight",
                        org.bytedeco.pytorch.global.torch.ones(2 * 1024 * 1024));
                c.snapshot(2, source(large));
                java.io.IOException failure = assertThrows(java.io.IOException.class, () -> c.awaitPersisted(2, WAIT));
                assertTrue(failure.getMessage().contains("No space left on device"), failure.getMessage());
                assertEquals(1, CheckpointLoader.load(ckpt, "global_step", StoredCheckpoint::progress),
                        "the previous checkpoint is intact");
                c.snapshot(3, source(state(3)));
                c.awaitPersisted(3, WAIT);
            }
            assertEquals(3, CheckpointLoader.load(ckpt, "global_step", StoredCheckpoint::progress));
        } finally {
            // Lazily: the checkpoint's lock stays open for the life of the process.
            assertEquals(0, run("umount", "--lazy", disk.toString()), "unmounting " + disk);
        }
    }

    private static int run(String... command) throws Exception {
        return new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .start().waitFor();
    }

    @Test
    void aSnapshotWhosePersistFailedIsKeptAndPersistedOnTheNextStart() throws Exception {
        Path ckpt = dir.resolve("f.pth");
        Path blocked = ckpt.resolveSibling("f.pth.tmp");
        try (Checkpointer c = open(ckpt)) {
            c.snapshot(1, source(state(1)));
            c.awaitPersisted(1, WAIT);
            NativeFile.beforeOpen(p -> {
                if (p.equals(blocked)) {
                    SpecialFiles.replace(blocked, () -> SpecialFiles.nonEmptyDirectory(blocked));
                }
            });
            c.snapshot(2, source(state(2)));
            assertThrows(java.io.IOException.class, () -> c.awaitPersisted(2, WAIT));
        } finally {
            NativeFile.beforeOpen(null);
        }
        assertTrue(StagingFiles.count(dir.resolve("staging")) > 0, "the unpersisted snapshot stays staged");
        Files.delete(blocked.resolve("keep.txt"));   // the way is free again
        Files.delete(blocked);
        try (Checkpointer c = open(ckpt)) {
            assertEquals(2, c.persistedStep());
        }
        assertEquals(2, CheckpointLoader.load(ckpt, "global_step", StoredCheckpoint::progress));
    }

    @Test
    void aStateHoldingNaNOrAnInfinityIsNeverCommittedAndTheLoopIsTold() throws Exception {
        Path ckpt = dir.resolve("n.pth");
        List<String> skipped = new ArrayList<>();
        try (Checkpointer c = Checkpointer.open(new CheckpointConfig(ckpt, 2, dir.resolve("staging")), EVERY_STEP,
                1 << 20, "global_step", new CheckpointListener() {
                    @Override
                    public void snapshotSkipped(long step, String reason) {
                        skipped.add(step + ": " + reason);
                    }
                })) {
            c.snapshot(1, source(state(1)));
            c.awaitPersisted(1, WAIT);
            for (double poison : new double[]{Double.NaN, Double.NEGATIVE_INFINITY}) {
                Map<String, Object> diverged = state(2);
                Tensor weight = (Tensor) ((Map<?, ?>) diverged.get("model_state_dict")).get("model.embed_tokens.weight");
                weight.view(-1).narrow(0, 2000, 1).fill_(new org.bytedeco.pytorch.Scalar(poison));
                assertTrue(c.snapshot(2, source(diverged)), "handed to the copier");
                c.awaitStaging();
                assertEquals("model_state_dict.model.embed_tokens.weight holds NaN or an infinity",
                        c.nonFinite().getMessage());
                assertEquals(2, c.nonFinite().step());
            }
            c.awaitIdle(WAIT);
            assertEquals(1, c.persistedStep(), "nothing newer than the last finite checkpoint");
        }
        assertEquals(List.of("2: model_state_dict.model.embed_tokens.weight holds NaN or an infinity",
                "2: model_state_dict.model.embed_tokens.weight holds NaN or an infinity"), skipped);
        assertEquals(1, CheckpointLoader.load(ckpt, "global_step", StoredCheckpoint::progress));
        assertFalse(Files.exists(ckpt.resolveSibling("n.pth.1")), "no install happened");
    }

    @Test
    void aCorruptCheckpointIsMovedAsideAndTheNewestValidBackupIsUsed() throws Exception {
        Path ckpt = dir.resolve("v.pth");
        try (Checkpointer c = open(ckpt)) {
            for (long step = 1; step <= 3; step++) {
                c.snapshot(step, source(state(step)));
                c.awaitPersisted(step, WAIT);
            }
        }
        byte[] bytes = Files.readAllBytes(ckpt);
        Files.write(ckpt, java.util.Arrays.copyOf(bytes, bytes.length / 2));
        CheckpointFiles files = new CheckpointFiles(ckpt, 2);
        assertEquals(2, CheckpointLoader.loadNewestValid(files, "global_step", StoredCheckpoint::progress).orElseThrow());
        assertTrue(Files.exists(ckpt.resolveSibling("v.pth.corrupt")), "the bad file is kept as evidence");
        assertEquals(bytes.length / 2, Files.size(ckpt.resolveSibling("v.pth.corrupt")));

        Files.writeString(ckpt.resolveSibling("v.pth.1"), "not a zip");
        Files.writeString(ckpt.resolveSibling("v.pth.2"), "not a zip");
        assertTrue(CheckpointLoader.loadNewestValid(files, "global_step", StoredCheckpoint::progress).isEmpty(), "no valid file: start fresh");
    }

    @Test
    void aSnapshotCommittedButNotPersistedIsPersistedOnTheNextStart() throws Exception {
        Path ckpt = dir.resolve("r.pth");
        Path staging = dir.resolve("staging");
        try (Checkpointer c = open(ckpt)) {
            c.snapshot(10, source(state(10)));
            c.awaitPersisted(10, WAIT);
        }
        // A process that staged step 20 and died before its writer persisted it.
        StagedOnly.stage(staging, 20, state(20));
        assertEquals(10, CheckpointLoader.load(ckpt, "global_step", StoredCheckpoint::progress));
        try (Checkpointer c = open(ckpt)) {
            assertEquals(20, c.persistedStep(), "persisted before open returns, i.e. before training continues");
        }
        assertEquals(20, CheckpointLoader.load(ckpt, "global_step", StoredCheckpoint::progress));
        // A staged snapshot older than the file on disk is never persisted over it.
        StagedOnly.stage(staging, 15, state(15));
        try (Checkpointer c = open(ckpt)) {
            assertEquals(20, c.persistedStep());
        }
        assertEquals(20, CheckpointLoader.load(ckpt, "global_step", StoredCheckpoint::progress));
    }

    @Test
    void aGracefulStopPersistsTheFinalStateEvenWhenTheBacklogIsFull() throws Exception {
        Path ckpt = dir.resolve("busy.pth");
        Map<String, Object> big = state(0);
        big.put("padding", org.bytedeco.pytorch.global.torch.ones(new long[]{32 << 20}));   // 128 MiB: a slow persist
        List<Long> skipped = new ArrayList<>();
        try (Checkpointer c = Checkpointer.open(new CheckpointConfig(ckpt, 2, dir.resolve("staging")), EVERY_STEP, 200L << 20,
                "global_step", new CheckpointListener() {
                    @Override
                    public void snapshotSkipped(long step, String reason) {
                        skipped.add(step);
                    }
                })) {
            for (long step = 1; step <= 4; step++) {
                big.put("global_step", step);
                c.snapshot(step, source(big));
            }
            big.put("global_step", 5L);
            c.checkpointAndWait(5, source(big), WAIT);
            assertEquals(5, c.persistedStep());
        }
        assertEquals(5, CheckpointLoader.load(ckpt, "global_step", StoredCheckpoint::progress));
        assertTrue(skipped.stream().allMatch(s -> s < 5), "the final snapshot is never skipped: " + skipped);
    }

    @Test
    void anUnwritableCheckpointDirectoryIsRejectedBeforeAnyWork() throws Exception {
        Path file = Files.writeString(dir.resolve("a-file"), "x");
        UnusablePathException e = assertThrows(UnusablePathException.class,
                () -> Checkpointer.open(new CheckpointConfig(file.resolve("c.pth"), 2, dir.resolve("s")), EVERY_STEP, 1 << 20,
                        "global_step", CheckpointListener.NONE));
        assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
    }

    @Test
    @Timeout(120)   // a hang guard: the stop waits up to 30 minutes if the writer's death goes unnoticed
    void aWriterThatDiesIsReportedInOneLineAndCountedAndTheStopEndsAtOnce() throws Exception {
        Path ckpt = dir.resolve("dies.pth");
        List<Throwable> errors = new ArrayList<>();
        CheckpointListener dying = new CheckpointListener() {
            @Override
            public void persisted(long step, Path path, long bytes, long nanos) {
                if (step >= 2) {   // 2, or 3 if it superseded 2 before the writer took it
                    throw new AssertionError("the writer thread fails with an Error");
                }
            }

            @Override
            public void checkpointError(Throwable cause) {
                errors.add(cause);
            }
        };
        try (Checkpointer c = Checkpointer.open(new CheckpointConfig(ckpt, 2, dir.resolve("staging")), EVERY_STEP,
                1 << 20, "global_step", dying)) {
            c.snapshot(1, source(state(1)));
            c.awaitPersisted(1, WAIT);
            c.snapshot(2, source(state(2)));
            Exception stop = assertThrows(Exception.class,
                    () -> c.checkpointAndWait(3, source(state(3)), Duration.ofMinutes(30)));
            assertTrue(stop.getMessage().contains("the checkpoint pipeline has stopped"), stop.getMessage());
        }
        assertEquals(1, errors.size(), "reported once: " + errors);
        assertTrue(CheckpointLoader.load(ckpt, "global_step", StoredCheckpoint::progress) >= 2,
                "the file was installed before the listener failed");
    }

    @Test
    void withoutPopulateAheadStagingTouchesEachPageAndSaysSoOnce() throws Exception {
        Path ckpt = dir.resolve("touch.pth");
        Path log = dir.resolve("touch.log");
        Process miner = ChildJvm.start(ChildJvm.command(List.of("-Dneuron.populate=touch"), neuron.engine.cli.Main.class,
                "miner", "--checkpoint_path", ckpt.toString(), "--staging_dir", dir.resolve("touch-staging").toString(),
                "--checkpoint_interval", "1", "--max_steps", "4", "--batch_size", "2", "--seq_len", "16"),
                dir.toFile(), log.toFile());
        assertEquals(0, miner.waitFor(), Files.readString(log));
        String out = Files.readString(log);
        assertEquals(1, out.lines().filter(l -> l.contains("cannot populate pages ahead")).count(), out);
        assertEquals(4, CheckpointLoader.load(ckpt, "global_step", StoredCheckpoint::progress));
    }
}
