package neuron.engine.pth;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Seeded random damage to valid files: every outcome must be a clean read (tree, storages and CRCs) or a
 * PthFormatException that names the file; never another throwable. The timeout only guards against a hang.
 */
class PthFuzzTest {
    private static final int CASES_PER_FILE = 2500;
    private static final int[] SIGNATURES = {ZipStreamWriter.LOCAL_HEADER_SIG, ZipStreamWriter.CENTRAL_HEADER_SIG,
        ZipStreamWriter.DATA_DESCRIPTOR_SIG, ZipStreamWriter.ZIP64_EOCD_SIG, ZipStreamWriter.ZIP64_LOCATOR_SIG,
        ZipStreamWriter.EOCD_SIG};
    private static final long[] EXTREMES = {0, 1, 0xFF, 0xFFFF, 0x7FFFFFFF, 0xFFFFFFFFL, Long.MAX_VALUE, -1, 64};

    @TempDir
    Path dir;

    @Test
    void damagedFilesReadCleanlyOrFailWithTheFileName() throws IOException {
        Random random = new Random(20261128);
        int rejected = 0;
        int read = 0;
        for (byte[] original : List.of(stateDictFile(), everyKindFile())) {
            List<Integer> structure = structureOffsets(original);
            for (int i = 0; i < CASES_PER_FILE; i++) {
                Mutation mutation = mutate(original, structure, random);
                Path file = dir.resolve("case-" + i + ".pth");
                Files.write(file, mutation.bytes());
                try {
                    readEverything(file);
                    read++;
                } catch (PthFormatException e) {
                    assertTrue(e.getMessage().startsWith(file.toString()), e.getMessage());
                    rejected++;
                } catch (Throwable t) {
                    throw new AssertionError("case " + i + " (" + mutation.what() + ") threw " + t, t);
                }
                Files.delete(file);
            }
        }
        assertTrue(rejected > CASES_PER_FILE / 2, "most damage is detected: " + rejected + " rejected, " + read + " read");
    }

    private record Mutation(byte[] bytes, String what) {
    }

    /** Opens, verifies, walks every tensor and touches every storage byte. */
    private static void readEverything(Path file) throws IOException {
        try (PthReader reader = PthReader.open(file)) {
            reader.verify();
            for (StorageData data : reader.storages()) {
                long sum = 0;
                for (ByteBuffer chunk : data.chunks()) {
                    while (chunk.hasRemaining()) {
                        sum += chunk.get();
                    }
                }
                assertTrue(sum != Long.MIN_VALUE);
            }
            PthCanonical.of(reader.root(), s -> PthCanonical.whole(reader.data(s)));
        }
    }

    /** A damaged copy of {@code original} and what was done to it. */
    private static Mutation mutate(byte[] original, List<Integer> structure, Random random) {
        byte[] bytes = original.clone();
        String what;
        switch (random.nextInt(5)) {
            case 0 -> {
                int flips = 1 + random.nextInt(4);
                for (int f = 0; f < flips; f++) {
                    int at = random.nextInt(bytes.length);
                    bytes[at] ^= (byte) (1 << random.nextInt(8));
                }
                what = flips + " bit flips";
            }
            case 1 -> {
                int length = random.nextInt(bytes.length);
                bytes = Arrays.copyOf(bytes, length);
                what = "truncated to " + length;
            }
            case 2 -> {
                int at = random.nextInt(bytes.length + 1);
                byte[] inserted = new byte[1 + random.nextInt(16)];
                random.nextBytes(inserted);
                byte[] longer = new byte[bytes.length + inserted.length];
                System.arraycopy(bytes, 0, longer, 0, at);
                System.arraycopy(inserted, 0, longer, at, inserted.length);
                System.arraycopy(bytes, at, longer, at + inserted.length, bytes.length - at);
                bytes = longer;
                what = inserted.length + " bytes inserted at " + at;
            }
            case 3 -> {
                int at = Math.min(structure.get(random.nextInt(structure.size())) + random.nextInt(56), bytes.length - 8);
                long value = random.nextBoolean() ? EXTREMES[random.nextInt(EXTREMES.length)] : random.nextLong();
                int width = new int[] {1, 2, 4, 8}[random.nextInt(4)];
                ByteBuffer buf = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
                for (int b = 0; b < width; b++) {
                    buf.put(at + b, (byte) (value >>> (8 * b)));
                }
                what = width + "-byte header field at " + at + " set to " + value;
            }
            default -> {
                int at = 64 + random.nextInt(Math.min(512, bytes.length - 64));
                int length = 1 + random.nextInt(8);
                for (int b = 0; b < length && at + b < bytes.length; b++) {
                    bytes[at + b] = (byte) random.nextInt(256);
                }
                what = length + " random bytes in data.pkl at " + at;
            }
        }
        return new Mutation(bytes, what);
    }

    /** Where the zip structures start: the mutations of header fields aim there. */
    private static List<Integer> structureOffsets(byte[] bytes) {
        List<Integer> offsets = new ArrayList<>();
        ByteBuffer buf = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i + 4 <= bytes.length; i++) {
            for (int signature : SIGNATURES) {
                if (buf.getInt(i) == signature) {
                    offsets.add(i);
                }
            }
        }
        return offsets;
    }

    private byte[] stateDictFile() throws IOException {
        Random random = new Random(1);
        Map<PthStorage, ByteBuffer> bytes = new IdentityHashMap<>();
        PyOrderedDict model = new PyOrderedDict();
        model.put("layer.weight", PthSamples.tensor(DType.FLOAT32, new long[] {4, 3}, random, bytes));
        model.put("layer.bias", PthSamples.tensor(DType.BFLOAT16, new long[] {3}, random, bytes));
        model.put("steps", PthSamples.tensor(DType.INT64, new long[0], random, bytes));
        PthTensor weight = (PthTensor) model.get("layer.weight");
        model.put("layer.weight_t", new PthTensor(weight.storage(), 1, new long[] {3, 2}, new long[] {1, 3}, false));
        Map<Object, Object> root = new LinkedHashMap<>();
        root.put("global_step", 42L);
        root.put("model_state_dict", model);
        root.put("hyper", new ArrayList<>(List.of(0.001, PyTuple.of(0.9, 0.999), "adamw", true)));
        return write("state.pth", root, bytes);
    }

    private byte[] everyKindFile() throws IOException {
        PthSamples.Sample sample = PthSamples.everyKind(true);
        ((Map<?, ?>) sample.root()).remove("batched");
        return write("every.pth", sample.root(), sample.bytes());
    }

    private byte[] write(String name, Object root, Map<PthStorage, ByteBuffer> bytes) throws IOException {
        Path file = dir.resolve(name);
        PthWriter.write(file, root, bytes::get);
        return Files.readAllBytes(file);
    }
}
