package neuron.engine.chain.scale;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.math.BigInteger;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;

/** SCALE and Substrate's hashers against the values Substrate's own documentation and chains give. */
class ScaleTest {
    private static final HexFormat HEX = HexFormat.of();

    private static String compact(long value) {
        return HEX.formatHex(new ScaleWriter().compact(value).toByteArray());
    }

    @Test
    void compactIntegersHaveSubstratesEncoding() {
        assertEquals("00", compact(0));
        assertEquals("04", compact(1));
        assertEquals("a8", compact(42));
        assertEquals("1501", compact(69));
        assertEquals("feff0300", compact(65535));
        assertEquals("0300000040", compact(1L << 30));
        assertEquals("0b00407a10f35a", compact(100_000_000_000_000L));
        assertEquals("13ffffffffffffffff", HEX.formatHex(new ScaleWriter()
                .compact(new BigInteger("18446744073709551615")).toByteArray()));
        for (long value : new long[] {0, 63, 64, 16383, 16384, (1L << 30) - 1, 1L << 30, 1L << 40, Long.MAX_VALUE}) {
            ScaleReader in = new ScaleReader(new ScaleWriter().compact(value).toByteArray());
            assertEquals(value, in.compact());
            in.expectEnd();
        }
    }

    @Test
    void readsAreBoundsCheckedAndRefuseWhatDoesNotFit() {
        assertThrows(ScaleFormatException.class, () -> new ScaleReader(new byte[] {1, 2}).u32());
        assertThrows(ScaleFormatException.class, () -> new ScaleReader(HEX.parseHex("fe")).length(), "a length past the end");
        assertThrows(ScaleFormatException.class, () -> new ScaleReader(HEX.parseHex("13ffffffffffffffff")).compact(),
                "2^64 - 1 does not fit a long");
        assertThrows(ScaleFormatException.class, () -> new ScaleReader(new byte[] {2}).bool());
        assertThrows(ScaleFormatException.class, () -> new ScaleReader(HEX.parseHex("08c328")).str(), "not UTF-8");
        assertEquals("hé", new ScaleReader(new ScaleWriter().str("hé").toByteArray()).str());
    }

    @Test
    void storageKeysAreTheOnesEverySubstrateChainUses() {
        assertEquals("26aa394eea5630e07c48ae0c9558cef702a5c1b19ab7a04f536c519aca4983ac",
                HEX.formatHex(Hashing.storagePrefix("System", "Number")));
        assertEquals("f0c365c3cf59d671eb72da0e7a4113c49f1f0515f462cdcf84e0f1d6045dfcbb",
                HEX.formatHex(Hashing.storagePrefix("Timestamp", "Now")));
        assertEquals("26aa394eea5630e07c48ae0c9558cef7", HEX.formatHex(Hashing.twox128("System".getBytes())));
        // runtime API ids as nodes list them in their runtime version
        assertEquals("df6acb689907609b", HEX.formatHex(Hashing.blake2b64("Core".getBytes())));
        assertEquals("37e397fc7c91f5e4", HEX.formatHex(Hashing.blake2b64("Metadata".getBytes())));
        assertArrayEquals(Hashing.concat(Hashing.twox64(new byte[] {7}), new byte[] {7}),
                StorageHasher.TWOX_64_CONCAT.hash(new byte[] {7}));
    }

    @Test
    void theEmptyTrieHasSubstratesEmptyRoot() {
        assertEquals("03170a2e7597b7b7e3d84c05391d139a62b157e78786d8c082f29dcf4c111314",
                HEX.formatHex(TrieRoot.ordered(java.util.List.of(), 1)));
    }

    @Test
    void fixedWidthIntegersAndBoolsAreLittleEndianAndReadBack() {
        byte[] written = new ScaleWriter().u8(0xAB).bool(true).bool(false).u16(0xBEEF).u32(0xDEADBEEFL)
                .u64(0x0123456789ABCDEFL).u64(-1L).toByteArray();
        assertEquals("ab0100efbeefbeaddeefcdab8967452301ffffffffffffffff", HEX.formatHex(written));
        ScaleReader r = new ScaleReader(written);
        assertEquals(0xAB, r.u8());
        assertEquals(true, r.bool());
        assertEquals(false, r.bool());
        assertEquals(0xBEEF, r.u16());
        assertEquals(0xDEADBEEFL, r.u32());
        assertEquals(0x0123456789ABCDEFL, r.u64());
        assertEquals(17, r.position());
        assertEquals(8, r.remaining());
        assertEquals(-1L, r.u64());
        r.expectEnd();
        assertEquals(written.length, new ScaleWriter().u8(0xAB).bool(true).bool(false).u16(0xBEEF).u32(0xDEADBEEFL)
                .u64(0x0123456789ABCDEFL).u64(-1L).size());
    }

    @Test
    void compactBoundariesReadBackAndAWriterGrowsPastItsFirstBuffer() {
        long[] values = {63, 64, 16383, 16384, (1L << 30) - 1, 1L << 30, 1L << 32, Long.MAX_VALUE};
        ScaleWriter w = new ScaleWriter();
        for (int i = 0; i < 100; i++) {
            for (long v : values) {
                w.compact(v);
            }
        }
        ScaleReader r = new ScaleReader(w.toByteArray());
        for (int i = 0; i < 100; i++) {
            for (long v : values) {
                assertEquals(v, r.compact(), "compact " + v);
            }
        }
        r.expectEnd();
        assertEquals("0101", compact(64));
        assertEquals("fdff", compact(16383));
        assertEquals("02000100", compact(16384));
        assertEquals("feffffff", compact((1L << 30) - 1));
    }

    @Test
    void shortOrBadInputIsRefusedWithWhereItWent() {
        assertEquals("a bool is 0 or 1, got 2 at 0",
                assertThrows(ScaleFormatException.class, () -> new ScaleReader(new byte[] {2}).bool()).getMessage());
        assertEquals("needs 2 bytes at 1, 1 left",
                assertThrows(ScaleFormatException.class, () -> {
                    ScaleReader r = new ScaleReader(new byte[] {0, 0});
                    r.u8();
                    r.raw(2);
                }).getMessage());
        assertEquals("length 3 at 1 runs past the end (2 bytes left)",
                assertThrows(ScaleFormatException.class, () -> new ScaleReader(new byte[] {12, 1, 2}).bytes()).getMessage());
        assertArrayEquals(new byte[] {1, 2}, new ScaleReader(new byte[] {8, 1, 2}).bytes());
        assertEquals("1 bytes left over after the value",
                assertThrows(ScaleFormatException.class, () -> new ScaleReader(new byte[] {1}).expectEnd()).getMessage());
    }
}
