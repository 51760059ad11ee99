package neuron.engine.pth;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/** Each kind of damaged or hostile file gets a PthFormatException that names the file and the reason. */
class PthHostileTest {
    /** README: a data.pkl "refused as hostile after at most 2,097,152 values". */
    private static final int DOCUMENTED_MAX_VALUES = 2_097_152;

    private static final String PROTO = "\u0080\u0002";

    @TempDir
    Path dir;

    private Path archive(String name, byte[] pickle, byte[] storage) throws IOException {
        Map<String, byte[]> records = new LinkedHashMap<>();
        records.put("data.pkl", pickle);
        if (storage != null) {
            records.put("data/0", storage);
        }
        records.put("version", PthArchives.ascii("3\n"));
        return PthArchives.write(dir.resolve(name), records);
    }

    private Path pickleFile(String name, Object... parts) throws IOException {
        return archive(name, PthArchives.pickle(parts), null);
    }

    private static void rejects(Path file, String reason, Executable open) {
        PthFormatException e = assertThrows(PthFormatException.class, open);
        assertTrue(e.getMessage().startsWith(file.toString()), e.getMessage());
        assertTrue(e.getMessage().contains(reason), e.getMessage());
    }

    private static void rejects(Path file, String reason) {
        rejects(file, reason, () -> PthReader.open(file).close());
    }

    @Test
    void globalsOutsideTheAllowListAreNeverResolved() throws IOException {
        Path os = pickleFile("os.pth", PROTO, "cos\nsystem\n", PthArchives.str("touch /tmp/pwned"), "\u0085R.");
        rejects(os, "global os.system is not on the allow-list");
        Path eval = pickleFile("eval.pth", PROTO, "cbuiltins\neval\n", PthArchives.str("1"), "\u0085R.");
        rejects(eval, "global builtins.eval is not on the allow-list");
        Path quantized = pickleFile("quantized.pth", PROTO, "ctorch\nQInt8Storage\n.");
        rejects(quantized, "global torch.QInt8Storage is not on the allow-list");
        Path storageValue = pickleFile("storage.pth", PROTO, "ctorch\nComplexFloatStorage\n.");
        rejects(storageValue, "torch.ComplexFloatStorage used as a value");
    }

    @Test
    void opcodesOutsideTheWhitelistAreRejected() throws IOException {
        rejects(pickleFile("int.pth", PROTO, "I1\n."), "opcode 0x49");
        rejects(pickleFile("frame.pth", PROTO, "\u0095", "\0\0\0\0\0\0\0\0", "N."), "opcode 0x95");
        rejects(pickleFile("binbytes.pth", PROTO, "C\u0001x."), "opcode 0x43");
        rejects(pickleFile("inst.pth", PROTO, "(ios\nsystem\n."), "opcode 0x69");
    }

    @Test
    void deepNestingCyclesAndMemoAbuseAreBounded() throws IOException {
        rejects(pickleFile("deep.pth", PROTO, "]".repeat(5000), "a".repeat(4999), "."), "nested deeper");
        rejects(pickleFile("cycle.pth", PROTO, "]q", 0, "h", 0, "a."), "nested deeper");
        StringBuilder dag = new StringBuilder("N");
        for (int i = 0; i < 60; i++) {
            dag.append("q").append((char) i).append("h").append((char) i).append("\u0086");
        }
        rejects(pickleFile("dag.pth", PROTO, dag.toString(), "."), "memo abuse");
        rejects(pickleFile("memo.pth", PROTO, "h", 7, "."), "memo slot 7 is empty");
        rejects(pickleFile("underflow.pth", PROTO, "(a."), "stack underflow");
        rejects(pickleFile("key.pth", PROTO, "}])s."), "dict key of type ArrayList");
        rejects(pickleFile("tuple_key.pth", PROTO, "}]\u0085Ns."), "dict key of type ArrayList");
        rejects(pickleFile("deep_key.pth", PROTO, "}N", "\u0085".repeat(1100), "Ns."), "dict key nested deeper");
    }

    /**
     * A 100 MB data.pkl of one list of 52 M ints (it took a minute and 1.4 GB of heap before there was a bound) is
     * refused: by the unpickler once it has made its bounded number of values, or before, where the heap is small
     * enough that the pickle's size alone is too much; a smaller pickle of too many values meets the value bound.
     */
    @Test
    void aPickleOfMillionsOfValuesIsRefused() throws IOException {
        String bound = "data.pkl: more than " + DOCUMENTED_MAX_VALUES + " values; a checkpoint keeps its bulk in tensors";
        PthFormatException huge = assertThrows(PthFormatException.class,
                () -> PthReader.open(archive("ints.pth", listOfInts(52_000_000), null)).close());
        assertTrue(huge.getMessage().contains(bound) || huge.getMessage().contains("larger than this reader accepts"),
                huge.getMessage());
        rejects(archive("more.pth", listOfInts(DOCUMENTED_MAX_VALUES + 1), null), bound);
    }

    /** {@code [0, 1, ..., 255, 0, ...]} of {@code count} ints: two bytes each. */
    private static byte[] listOfInts(int count) {
        byte[] pickle = new byte[2 + 2 + 2 * count + 2];
        int at = 0;
        pickle[at++] = (byte) 0x80;
        pickle[at++] = 2;
        pickle[at++] = ']';
        pickle[at++] = '(';
        for (int i = 0; i < count; i++) {
            pickle[at++] = 'K';
            pickle[at++] = (byte) i;
        }
        pickle[at++] = 'e';
        pickle[at] = '.';
        return pickle;
    }

    @Test
    void untypedStoragesMustHoldWholeElements() throws IOException {
        String v3 = "ctorch._utils\n_rebuild_tensor_v3\n((" + PthArchives.str("storage") + "ctorch\nUntypedStorage\n"
                + PthArchives.str("0") + PthArchives.str("cpu") + "K\u0005tQK\0K\2\u0085K\1\u0085\u0089"
                + "ccollections\nOrderedDict\n)Rctorch\nuint16\ntR.";
        rejects(archive("odd.pth", PthArchives.pickle(PROTO, v3), new byte[5]),
                "untyped storage 0 of 5 bytes does not hold uint16 elements");
        rejects(pickleFile("uint4.pth", PROTO, "ctorch\nuint4\n."), "global torch.uint4 is not on the allow-list");
    }

    @Test
    void declaredLengthsAreCheckedBeforeAllocating() throws IOException {
        rejects(pickleFile("string.pth", PROTO, "X", 0xff, 0xff, 0xff, 0x7f, "abc."), "runs past the end");
        rejects(pickleFile("truncated.pth", PROTO, "]("), "truncated");
        rejects(pickleFile("global.pth", PROTO, "c" + "x".repeat(10_000)), "GLOBAL name longer");
    }

    @Test
    void tensorsMustStayInsideTheirStorage() throws IOException {
        byte[] sixFloats = new byte[24];
        rejects(archive("beyond.pth", PthArchives.pickle(PROTO, PthArchives.tensor(6, "K\0", "K\3K\3\u0086",
                "K\3K\1\u0086"), "."), sixFloats), "tensor reaches element 8 of a storage of 6");
        rejects(archive("offset.pth", PthArchives.pickle(PROTO, PthArchives.tensor(6, "K\5", "K\2\u0085",
                "K\1\u0085"), "."), sixFloats), "tensor reaches element 6");
        rejects(archive("negative.pth", PthArchives.pickle(PROTO, PthArchives.tensor(6, "K\0", "J\u00ff\u00ff\u00ff\u00ff\u0085",
                "K\1\u0085"), "."), sixFloats), "negative size");
        rejects(archive("overflow.pth", PthArchives.pickle(PROTO, PthArchives.tensor(6, "K\0",
                "\u008a\u0008\0\0\0\0\0\0\0\u0040K\4\u0086", "K\1K\1\u0086"), "."), sixFloats), "overflows");
        rejects(archive("record.pth", PthArchives.pickle(PROTO, PthArchives.tensor(7, "K\0", "K\7\u0085",
                "K\1\u0085"), "."), sixFloats), "declares 7 float32 elements but its record has 24 bytes");
        rejects(archive("missing.pth", PthArchives.pickle(PROTO, PthArchives.tensor(6, "K\0", "K\6\u0085",
                "K\1\u0085"), "."), null), "no record data/0");
    }

    @Test
    void archiveLevelDamageIsReported() throws IOException {
        Path good = archive("good.pth", PthArchives.pickle(PROTO, "N."), new byte[] {1, 2, 3});
        byte[] bytes = Files.readAllBytes(good);

        Path magic = dir.resolve("magic.pth");
        byte[] wrongMagic = bytes.clone();
        wrongMagic[0] = 'X';
        Files.write(magic, wrongMagic);
        rejects(magic, "bad magic");

        Path cut = dir.resolve("cut.pth");
        Files.write(cut, java.util.Arrays.copyOf(bytes, bytes.length / 2));
        rejects(cut, "no end-of-central-directory record");

        Path crc = dir.resolve("crc.pth");
        byte[] flipped = bytes.clone();
        flipped[(int) dataOffset(good, "data/0")] ^= 1;
        Files.write(crc, flipped);
        try (PthReader reader = PthReader.open(crc)) {
            rejects(crc, "CRC-32 mismatch in record data/0", reader::verify);
        }

        int entry = centralEntry(bytes, "archive/data.pkl");
        Path compressed = dir.resolve("compressed.pth");
        ByteBuffer.wrap(bytes = bytes.clone()).order(ByteOrder.LITTLE_ENDIAN).putShort(entry + 10, (short) 8);
        Files.write(compressed, bytes);
        rejects(compressed, "is compressed (method 8)");

        Path huge = dir.resolve("huge.pth");
        bytes = Files.readAllBytes(good);
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).putInt(entry + 20, 0x7FFFFFF0).putInt(entry + 24, 0x7FFFFFF0);
        Files.write(huge, bytes);
        rejects(huge, "extends beyond the archive data");
    }

    @Test
    void requiredRecordsAndTorchScriptArchives() throws IOException {
        Map<String, byte[]> noPickle = new LinkedHashMap<>();
        noPickle.put("version", PthArchives.ascii("3\n"));
        rejects(PthArchives.write(dir.resolve("nopickle.pth"), noPickle), "no data.pkl record");

        Map<String, byte[]> script = new LinkedHashMap<>();
        script.put("data.pkl", PthArchives.pickle(PROTO, "N."));
        script.put("constants.pkl", PthArchives.pickle(PROTO, ").").clone());
        script.put("version", PthArchives.ascii("3\n"));
        rejects(PthArchives.write(dir.resolve("script.pth"), script), "TorchScript archive");

        Map<String, byte[]> bigEndian = new LinkedHashMap<>();
        bigEndian.put("data.pkl", PthArchives.pickle(PROTO, "N."));
        bigEndian.put("byteorder", PthArchives.ascii("big"));
        bigEndian.put("version", PthArchives.ascii("3\n"));
        rejects(PthArchives.write(dir.resolve("big.pth"), bigEndian), "byte order 'big' is not supported");

        Map<String, byte[]> future = new LinkedHashMap<>();
        future.put("data.pkl", PthArchives.pickle(PROTO, "N."));
        future.put("version", PthArchives.ascii("99\n"));
        rejects(PthArchives.write(dir.resolve("future.pth"), future), "unsupported format version '99'");
    }

    private static long dataOffset(Path file, String record) throws IOException {
        try (MappedFile mapped = MappedFile.open(file)) {
            return ZipDirectory.read(file, mapped).records().get(record).dataOffset();
        }
    }

    /** The offset of the central-directory entry for {@code fullName}. */
    private static int centralEntry(byte[] bytes, String fullName) {
        byte[] name = PthArchives.ascii(fullName);
        ByteBuffer buf = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i + 46 + name.length <= bytes.length; i++) {
            if (buf.getInt(i) == ZipStreamWriter.CENTRAL_HEADER_SIG && (buf.getShort(i + 28) & 0xFFFF) == name.length
                    && buf.slice(i + 46, name.length).equals(ByteBuffer.wrap(name))) {
                return i;
            }
        }
        throw new AssertionError("no central entry " + fullName);
    }
}
