package neuron.engine.validator;

import neuron.engine.chain.local.ChainServer;
import neuron.engine.chain.local.LocalChain;
import neuron.engine.cli.Main;
import neuron.engine.journal.BlockJournal;
import neuron.engine.nativeio.LibTorch;
import neuron.engine.network.Hash32;
import neuron.engine.network.ModelHash;
import neuron.engine.network.Submission;
import neuron.engine.network.SubmissionStore;
import neuron.engine.network.WindowSchedule;
import neuron.engine.testing.S3Proxy;
import neuron.engine.testing.Slow;
import neuron.engine.testing.Trees;
import neuron.engine.torch.TensorTrees;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A validator backed up to a real S3 server (s3proxy on loopback) and started again on an empty directory
 * resumes from the bucket with its scores and its journal, and reaches exactly the state of a validator that
 * never stopped.
 */
@Slow
class BackupValidatorTest {
    private static final String BUCKET = "neuron-validator-backups";
    private static final long UNTIL = 45;

    @TempDir
    Path dir;

    @BeforeAll
    static void torch() {
        LibTorch.load();
    }

    @AfterEach
    void forgetCredentials() {
        S3Proxy.useCredentials(null);
    }

    /** {@code seed} differs between runs on purpose: only a validator that resumed ends like the straight one. */
    private String[] args(Path machine, long until, String seed, S3Proxy s3, URI chain) {
        List<String> a = new ArrayList<>(List.of("validator", "--checkpoint_path", machine.resolve("v.pth").toString(),
                "--journal_dir", machine.resolve("v.journal").toString(),
                "--staging_dir", machine.resolve("staging").toString(),
                "--submissions", dir.resolve("store").toString(), "--chain", chain.toString(),
                "--until_block", Long.toString(until), "--checkpoint_interval", "10", "--seed", seed));
        if (s3 != null) {
            a.addAll(List.of("--backup", "s3://" + BUCKET + "/validator", "--backup_endpoint", s3.endpoint().toString()));
        }
        return a.toArray(String[]::new);
    }

    @Test
    void aValidatorOnAnEmptyDirectoryResumesFromTheBucketWithItsScoresAndJournal() throws Exception {
        try (S3Proxy s3 = S3Proxy.start(dir.resolve("s3"), BUCKET);
             ChainServer server = ChainServer.start(chainWithUpdates(), new InetSocketAddress("127.0.0.1", 0))) {
            URI chain = server.uri();
            Path straight = dir.resolve("straight");
            assertEquals(0, Main.run(args(straight, UNTIL, "0", null, chain)));

            S3Proxy.useCredentials(S3Proxy.SECRET_KEY);
            Path machine = dir.resolve("machine");
            ByteArrayOutputStream logged = new ByteArrayOutputStream();
            PrintStream stderr = System.err;
            System.setErr(new PrintStream(logged, true, StandardCharsets.UTF_8));   // where the log lines go
            try {
                assertEquals(0, Main.run(args(machine, 30, "0", s3, chain)));
                String manifest = Files.readString(s3.object(BUCKET,
                        String.format(Locale.ROOT, "validator/versions/%020d/manifest.json", 30)));
                assertTrue(manifest.contains("\"root\" : \"journal\"") && manifest.contains("evaluated/"), manifest);
                Trees.delete(machine);
                assertEquals(0, Main.run(args(machine, UNTIL, "99", s3, chain)), "a new machine, another --seed");
            } finally {
                System.setErr(stderr);
            }
            String log = logged.toString(StandardCharsets.UTF_8);
            assertTrue(log.contains("backup: "), "the backup's lines were read:\n" + log);
            assertFalse(log.contains(S3Proxy.SECRET_KEY), "no secret in the validator's backup lines");
            Map<?, ?> expected = TensorTrees.load(straight.resolve("v.pth"), "block");
            Map<?, ?> resumed = TensorTrees.load(machine.resolve("v.pth"), "block");
            assertEquals(List.of(), ValidatorReplay.differences(expected, resumed), "the resumed validator's state");
            assertTrue(((Tensor) resumed.get("scores")).abs().sum().item_float() > 0, "with the miners' scores");
            try (BlockJournal journal = BlockJournal.open(machine.resolve("v.journal"))) {
                assertTrue(journal.info().firstBlock() <= 10, "the journal came back, from before the oldest "
                        + "checkpoint kept: " + journal.info());
            }
        }
    }

    /**
     * A chain made in advance up to past {@code UNTIL}: in windows 0 and 1 (which share the first base) an honest
     * and a noisy miner commit an update; each run of the validator catches up through it from block 0.
     */
    private LocalChain chainWithUpdates() throws Exception {
        SubmissionStore store = SubmissionStore.at(dir.resolve("store"));
        Map<String, Tensor> b0 = Updates.firstBase();
        Hash32 base0 = ModelHash.of(b0);
        LocalChain chain = LocalChain.onDemand("backup-validator");
        int blocksPerWindow = WindowSchedule.DEFAULT_BLOCKS_PER_WINDOW;
        for (long b = 1; b <= UNTIL + LocalChain.FINALITY_LAG + 1; b++) {
            if (b % blocksPerWindow == 1 && b / blocksPerWindow < 2) {
                long w = b / blocksPerWindow;
                chain.commit(Updates.update(1, w, store.put(Submission.tree(1, w, base0, Updates.trained(b0, 1, w, 10)))));
                chain.commit(Updates.update(2, w, store.put(Submission.tree(2, w, base0, Updates.noise(b0, w)))));
            }
            chain.makeBlock();
        }
        return chain;
    }
}
