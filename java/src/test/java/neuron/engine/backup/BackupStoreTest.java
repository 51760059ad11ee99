package neuron.engine.backup;

import neuron.engine.checkpoint.UnusablePathException;
import neuron.engine.testing.S3Proxy;
import neuron.engine.testing.Slow;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The store as backups use it, against a real S3 server: multipart uploads streamed from a file come back equal,
 * listings go past one page, a wrong secret is refused with a line that says so, and a manifest is checked as
 * hostile input.
 */
@Slow
class BackupStoreTest {
    private static final String BUCKET = "neuron-store-test";

    @TempDir
    static Path dir;
    static S3Proxy s3;

    @BeforeAll
    static void server() throws Exception {
        s3 = S3Proxy.start(dir.resolve("s3"), BUCKET);
    }

    @AfterAll
    static void stop() throws Exception {
        if (s3 != null) {
            s3.close();
        }
    }

    @AfterEach
    void forgetCredentials() {
        S3Proxy.useCredentials(null);
    }

    private static ObjectStore store(String secret, int pageSize) throws Exception {
        S3Proxy.useCredentials(secret);
        return ObjectStore.connect(BackupTarget.parse("s3://" + BUCKET + "/p/q", s3.endpoint().toString()), pageSize);
    }

    @Test
    void filesGoUpInPartsAndComeBackEqualAndListingsPassOnePage() throws Exception {
        byte[] big = new byte[2 * ObjectStore.PART_BYTES + 12345];
        new Random(5).nextBytes(big);
        Path file = dir.resolve("big.bin");
        Files.write(file, big);
        try (ObjectStore store = store(S3Proxy.SECRET_KEY, 2); FileChannel ch = FileChannel.open(file)) {
            store.checkAccess();
            String sha = store.upload("versions/big.bin", ch, big.length);
            assertArrayEquals(big, Files.readAllBytes(s3.object(BUCKET, "p/q/versions/big.bin")), "3 parts, in order");
            Path back = dir.resolve("back.bin");
            assertEquals(sha, store.download("versions/big.bin", back, big.length));
            assertArrayEquals(big, Files.readAllBytes(back));
            assertThrows(ObjectStore.DamagedObjectException.class, () -> store.download("versions/big.bin", back, 100),
                    "an object longer than recorded is damaged");

            for (int i = 0; i < 5; i++) {
                store.put("versions/small-" + i, ("object " + i).getBytes(StandardCharsets.UTF_8));
            }
            assertEquals(6, store.list("versions/").size(), "three pages of two");
            assertEquals("object 3", new String(store.get("versions/small-3", 100).orElseThrow(), StandardCharsets.UTF_8));
            assertTrue(store.get("versions/none", 100).isEmpty());
        }
    }

    @Test
    void aWrongSecretIsRefusedWithOneLineThatSaysWhy() throws Exception {
        try (ObjectStore store = store("not-the-secret", 1000)) {
            UnusablePathException e = assertThrows(UnusablePathException.class, store::checkAccess);
            assertTrue(e.getMessage().contains("access denied (SignatureDoesNotMatch)"), e.getMessage());
            assertEquals(1, e.getMessage().lines().count());
        }
    }

    @Test
    void missingCredentialsOrRegionGetOneLineWithNoSecretInIt() {
        assumeTrue(System.getenv("AWS_ACCESS_KEY_ID") == null && System.getenv("AWS_REGION") == null
                && System.getenv("AWS_PROFILE") == null, "this machine has AWS settings of its own");
        // only the secret half: no credentials, and the line that says so does not carry the secret
        System.setProperty("aws.secretAccessKey", S3Proxy.SECRET_KEY);
        UnusablePathException none = assertThrows(UnusablePathException.class,
                () -> ObjectStore.connect(BackupTarget.parse("s3://" + BUCKET + "/p", s3.endpoint().toString())));
        assertEquals("backup s3://" + BUCKET + "/p at " + s3.endpoint() + ": no credentials; set AWS_ACCESS_KEY_ID "
                + "and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE)", none.getMessage());
        // credentials, but no region for AWS itself (no endpoint)
        S3Proxy.useCredentials(S3Proxy.SECRET_KEY);
        UnusablePathException noRegion = assertThrows(UnusablePathException.class,
                () -> ObjectStore.connect(BackupTarget.parse("s3://" + BUCKET + "/p", null)));
        assertEquals("backup s3://" + BUCKET + "/p: no AWS region; set AWS_REGION", noRegion.getMessage());
        for (UnusablePathException e : List.of(none, noRegion)) {
            assertFalse(e.getMessage().contains(S3Proxy.SECRET_KEY), e.getMessage());
        }
    }

    @Test
    void trailingZerosAreNotStored() throws Exception {
        Path file = dir.resolve("sparse.bin");
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.READ)) {
            ch.write(java.nio.ByteBuffer.wrap(new byte[]{1, 2, 3}), 70_000);
            ch.truncate(1 << 24);
            ch.write(java.nio.ByteBuffer.wrap(new byte[]{0}), (1 << 24) - 1);
            assertEquals(70_003, Uploader.dataEnd(ch, ch.size()));
        }
    }

    @Test
    void aManifestIsCheckedAsHostileInput() {
        String sha = "0".repeat(64);
        String key = Manifest.manifestKey(7);
        Manifest good = new Manifest(Manifest.FORMAT, "global_step", 7, List.of(
                new Manifest.Entry("checkpoint", "m.pth", Manifest.versionPrefix(7) + "m.pth", 10, 10, sha)));
        assertEquals(good, assertDoesNotThrow(key, good.toJson()));
        for (String path : List.of("../m.pth", "/etc/passwd", "a//b", ".hidden", "a/../../b")) {
            Manifest bad = new Manifest(Manifest.FORMAT, "global_step", 7, List.of(
                    new Manifest.Entry("checkpoint", "m.pth", Manifest.versionPrefix(7) + "m.pth", 10, 10, sha),
                    new Manifest.Entry("journal", path, Manifest.versionPrefix(7) + "j", 10, 10, sha)));
            assertThrows(ObjectStore.DamagedObjectException.class, () -> Manifest.parse(key, bad.toJson()), path);
        }
        assertThrows(ObjectStore.DamagedObjectException.class, () -> Manifest.parse(Manifest.manifestKey(8), good.toJson()),
                "a manifest moved to another version");
        assertThrows(ObjectStore.DamagedObjectException.class,
                () -> Manifest.parse(key, "{\"format\":1,".getBytes(StandardCharsets.UTF_8)));
    }

    private static Manifest assertDoesNotThrow(String key, byte[] json) {
        try {
            return Manifest.parse(key, json);
        } catch (ObjectStore.DamagedObjectException e) {
            throw new AssertionError(e);
        }
    }
}
