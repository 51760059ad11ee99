package neuron.engine.miner;

import neuron.engine.checkpoint.CheckpointLoader;
import neuron.engine.checkpoint.StoredCheckpoint;
import neuron.engine.cli.Main;
import neuron.engine.nativeio.LibTorch;
import neuron.engine.testing.NeuronProcess;
import neuron.engine.testing.S3Proxy;
import neuron.engine.testing.Slow;
import neuron.engine.testing.Trees;
import neuron.engine.torch.TensorTrees;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A miner backed up to a real S3 server (s3proxy on loopback): each persisted checkpoint is uploaded and equals
 * the local file; a machine that lost its whole checkpoint directory resumes from the bucket bit-exactly; a
 * truncated object makes the older version be used; the store killed mid-run costs no step and no checkpoint,
 * and uploads resume once it is back; a wrong secret stops start-up with one line.
 */
@Slow
class BackupMinerTest {
    private static final String BUCKET = "neuron-miner-backups";
    private static final String[] COMMON = {"--batch_size", "2", "--seq_len", "32", "--warmup_steps", "3"};

    @TempDir
    static Path serverDir;
    static S3Proxy s3;

    @TempDir
    Path dir;

    @BeforeAll
    static void torchAndServer() throws Exception {
        LibTorch.load();
        s3 = S3Proxy.start(serverDir, BUCKET);
    }

    @AfterAll
    static void stopServer() throws Exception {
        if (s3 != null) {
            s3.close();
        }
    }

    @AfterEach
    void forgetCredentials() {
        S3Proxy.useCredentials(null);
    }

    /**
     * A miner on {@code machine}; {@code seed} differs between runs on purpose: a resumed miner takes the
     * checkpoint's configuration, so only a resumed run ends equal to the straight one.
     */
    private static String[] args(Path machine, long maxSteps, long interval, String seed, String prefix) {
        List<String> a = new ArrayList<>(List.of("miner", "--checkpoint_path", machine.resolve("m.pth").toString(),
                "--staging_dir", machine.resolve("staging").toString(), "--keep_backups", "1",
                "--max_steps", Long.toString(maxSteps), "--checkpoint_interval", Long.toString(interval),
                "--seed", seed));
        a.addAll(List.of(COMMON));
        if (prefix != null) {
            a.addAll(List.of("--backup", "s3://" + BUCKET + "/" + prefix, "--backup_endpoint", s3.endpoint().toString()));
        }
        return a.toArray(String[]::new);
    }

    private static Path version(String prefix, long step) {
        return s3.object(BUCKET, String.format(Locale.ROOT, "%s/versions/%020d/m.pth", prefix, step));
    }

    @Test
    void eachCheckpointIsUploadedAndANewMachineResumesFromTheBucketBitExact() throws Exception {
        Path straight = dir.resolve("straight");
        assertEquals(0, Main.run(args(straight, 12, 4, "3", null)));

        S3Proxy.useCredentials(S3Proxy.SECRET_KEY);
        Path machine = dir.resolve("machine");
        assertEquals(0, Main.run(args(machine, 8, 4, "3", "resume")));
        assertArrayEquals(Files.readAllBytes(machine.resolve("m.pth")), Files.readAllBytes(version("resume", 8)));
        assertArrayEquals(Files.readAllBytes(machine.resolve("m.pth.1")), Files.readAllBytes(version("resume", 4)));
        assertTrue(Files.readString(s3.object(BUCKET, "resume/latest")).contains("\"progress\":8"));

        Trees.delete(machine);
        assertEquals(0, Main.run(args(machine, 12, 4, "99", "resume")), "a new machine, another --seed");
        assertBitIdentical(straight, machine);
        List<Long> kept = versions("resume");
        assertEquals(2, kept.size(), "the store keeps --keep_backups + 1 versions, like the disk: " + kept);
        assertEquals(12, kept.get(1));
        assertFalse(Files.exists(version("resume", 4)), "the oldest version's objects are gone");

        // An object truncated in the bucket: its version is refused, the older one used, the download kept.
        try (FileChannel object = FileChannel.open(version("resume", 12), StandardOpenOption.WRITE)) {
            object.truncate(object.size() / 2);
        }
        Trees.delete(machine);
        NeuronProcess resumed = NeuronProcess.start(dir, dir.resolve("resumed.log"),
                S3Proxy.credentials(S3Proxy.SECRET_KEY), args(machine, 12, 4, "99", "resume"));
        assertEquals(0, resumed.await(180), resumed.log());
        String log = resumed.log();
        String target = "s3://" + BUCKET + "/resume at " + s3.endpoint();
        assertTrue(log.contains("BACKUP VERSION " + target + " global_step 12 CANNOT BE USED"), log);
        assertTrue(log.contains("resumed from checkpoint " + machine.resolve("m.pth") + " (fetched from " + target
                + " global_step " + kept.get(0) + ")"), log);
        assertTrue(Files.exists(machine.resolve("m.pth.corrupt")), "the bad download is kept as evidence");
        assertBitIdentical(straight, machine);
        assertArrayEquals(Files.readAllBytes(machine.resolve("m.pth")), Files.readAllBytes(version("resume", 12)),
                "the damaged version was uploaded again");
        assertFalse(log.contains(S3Proxy.SECRET_KEY), "no secret in the log");

        // Bytes altered in place, the length kept: only the SHA-256 tells, and it refuses the version.
        try (FileChannel object = FileChannel.open(version("resume", 12), StandardOpenOption.READ,
                StandardOpenOption.WRITE)) {
            ByteBuffer middle = ByteBuffer.allocate(16);
            object.read(middle, object.size() / 2);
            for (int i = 0; i < middle.limit(); i++) {
                middle.put(i, (byte) ~middle.get(i));
            }
            object.write(middle.flip(), object.size() / 2);
        }
        Trees.delete(machine);
        NeuronProcess altered = NeuronProcess.start(dir, dir.resolve("altered.log"),
                S3Proxy.credentials(S3Proxy.SECRET_KEY), args(machine, 12, 4, "99", "resume"));
        assertEquals(0, altered.await(180), altered.log());
        String alteredLog = altered.log();
        assertTrue(alteredLog.contains("BACKUP VERSION " + target + " global_step 12 CANNOT BE USED (")
                && alteredLog.contains(" has SHA-256 "), "refused by its SHA-256:\n" + alteredLog);
        assertTrue(alteredLog.contains("(fetched from " + target + " global_step " + kept.get(0) + ")"), alteredLog);
        assertBitIdentical(straight, machine);
    }

    @Test
    void theStoreGoneMidRunCostsNothingAndUploadsResumeWhenItIsBack() throws Exception {
        Path machine = dir.resolve("machine");
        NeuronProcess miner = NeuronProcess.start(dir, dir.resolve("miner.log"),
                S3Proxy.credentials(S3Proxy.SECRET_KEY), args(machine, 0, 25, "3", "outage"));
        assertNotNull(miner.awaitLog("backup: global_step \\d+ uploaded", 120_000), miner.log());
        s3.kill();
        int down = awaitAfter(miner, 0, "backup of global_step \\d+ to .* failed \\(attempt 1\\)");
        int persisted = awaitAfter(miner, down, "checkpoint persisted: step (\\d+)");
        awaitAfter(miner, persisted, "checkpoint persisted: step (\\d+)");   // training and checkpoints go on
        s3.restart();
        int back = awaitAfter(miner, miner.log().length(), "backup: global_step (\\d+) uploaded");
        miner.process().destroy();   // SIGTERM: a graceful stop; the JVM's status after it is 128 + 15
        assertEquals(143, miner.await(120), miner.log());
        String log = miner.log();
        assertTrue(back > down && log.contains("backup: every checkpoint is uploaded"), log);
        long last = CheckpointLoader.load(machine.resolve("m.pth"), "global_step", StoredCheckpoint::progress);
        assertTrue(Files.readString(s3.object(BUCKET, "outage/latest")).contains("\"progress\":" + last + ","), log);
        assertArrayEquals(Files.readAllBytes(machine.resolve("m.pth")), Files.readAllBytes(version("outage", last)));
        assertFalse(log.contains(S3Proxy.SECRET_KEY), "no secret in the outage's lines, the S3 library's messages included");
    }

    @Test
    void aWrongSecretStopsStartUpWithOneLine() throws Exception {
        String wrong = "not-the-secret-" + System.nanoTime();
        S3Proxy.useCredentials(wrong);
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        PrintStream stderr = System.err;
        int status;
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        try {
            status = Main.run(args(dir.resolve("machine"), 4, 4, "3", "secret"));
        } finally {
            System.setErr(stderr);
        }
        String out = err.toString(StandardCharsets.UTF_8);
        assertEquals(Main.EXIT_USAGE, status, out);
        assertEquals(1, out.lines().count(), out);
        assertTrue(out.startsWith("neuron miner: backup s3://" + BUCKET + "/secret at " + s3.endpoint()
                + ": access denied (SignatureDoesNotMatch); check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"), out);
        assertFalse(out.contains(wrong), "no secret in the output");
        assertFalse(Files.exists(dir.resolve("machine").resolve("m.pth")), "nothing trained");
    }

    /** The versions with a manifest under {@code prefix}, oldest first. */
    private static List<Long> versions(String prefix) throws IOException {
        try (Stream<Path> dirs = Files.list(s3.object(BUCKET, prefix + "/versions"))) {
            return dirs.filter(d -> Files.exists(d.resolve("manifest.json")))
                    .map(d -> Long.parseLong(d.getFileName().toString())).sorted().toList();
        }
    }

    private static void assertBitIdentical(Path straight, Path resumed) throws IOException {
        TrainTrees.assertBitIdentical(TensorTrees.load(straight.resolve("m.pth"), "global_step"),
                TensorTrees.load(resumed.resolve("m.pth"), "global_step"), resumed.toString());
    }

    /** Waits until {@code regex} matches in the log after offset {@code from}; returns where the match ends. */
    private static int awaitAfter(NeuronProcess p, int from, String regex) throws Exception {
        Pattern pattern = Pattern.compile(regex);
        long deadline = System.currentTimeMillis() + 120_000;
        while (System.currentTimeMillis() < deadline && p.process().isAlive()) {
            String log = p.log();
            Matcher m = pattern.matcher(log);
            if (m.find(Math.min(from, log.length()))) {
                return m.end();
            }
            Thread.sleep(50);
        }
        throw new AssertionError("no '" + regex + "' after offset " + from + ":\n" + p.log());
    }

}
