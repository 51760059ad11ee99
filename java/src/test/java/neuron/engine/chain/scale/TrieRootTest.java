package neuron.engine.chain.scale;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import neuron.engine.testing.NodeScripts;
import neuron.engine.testing.Slow;
import org.junit.jupiter.api.Test;

/**
 * Trie roots against Substrate's own trie code (sp-trie, compiled to wasm in chopsticks' executor), for tries of
 * every shape: one key, keys that are prefixes of others, shared prefixes long enough for multi-byte node headers,
 * values below and above the size state version 1 hashes, and the ordered tries of extrinsics.
 */
@Slow
class TrieRootTest {
    private static final HexFormat HEX = HexFormat.of();

    @Test
    void rootsMatchSubstratesTrieForBothStateVersions() throws Exception {
        NodeScripts.assumeInstalled();
        Random random = new Random(14);
        List<Map<byte[], byte[]>> tries = new ArrayList<>();
        tries.add(entries("00", "280403000b44a67333a201"));
        tries.add(entries("01", "aa", "0102", "bb", "0103", "cc", "010304", "dd"));
        byte[] longPrefix = new byte[70]; // 140 shared nibbles: the node header needs more than one byte
        tries.add(Map.of(concat(longPrefix, 1), new byte[40], concat(longPrefix, 2), new byte[] {5}));
        for (int t = 0; t < 40; t++) {
            Map<byte[], byte[]> trie = new TreeMap<>(Arrays::compareUnsigned);
            int size = 1 + random.nextInt(t < 20 ? 6 : 60);
            for (int i = 0; i < size; i++) {
                byte[] key = new byte[random.nextInt(5)];
                random.nextBytes(key);
                key = random.nextBoolean() ? concat(new byte[] {(byte) 0x26, (byte) 0xaa}, key) : key;
                byte[] value = new byte[random.nextInt(3) == 0 ? 33 + random.nextInt(40) : random.nextInt(33)];
                random.nextBytes(value);
                trie.put(key, value);
            }
            tries.add(trie);
        }
        List<List<byte[]>> ordered = new ArrayList<>();
        for (int n : new int[] {1, 2, 16, 17, 70}) {
            List<byte[]> extrinsics = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                byte[] extrinsic = new byte[1 + random.nextInt(60)];
                random.nextBytes(extrinsic);
                extrinsics.add(extrinsic);
            }
            ordered.add(extrinsics);
        }

        ArrayNode cases = new ObjectMapper().createArrayNode();
        List<String> expected = new ArrayList<>();
        for (int version = 0; version <= 1; version++) {
            for (Map<byte[], byte[]> trie : tries) {
                addCase(cases, trie, version);
                expected.add("0x" + HEX.formatHex(TrieRoot.of(trie, version)));
            }
            for (List<byte[]> extrinsics : ordered) {
                Map<byte[], byte[]> trie = new TreeMap<>(Arrays::compareUnsigned);
                for (int i = 0; i < extrinsics.size(); i++) {
                    trie.put(new ScaleWriter().compact(i).toByteArray(), extrinsics.get(i));
                }
                addCase(cases, trie, version);
                expected.add("0x" + HEX.formatHex(TrieRoot.ordered(extrinsics, version)));
            }
        }
        String roots = NodeScripts.run(Duration.ofSeconds(60), cases.toString(), "trie-roots.mjs");
        assertEquals(expected, roots.lines().toList());
    }

    private static void addCase(ArrayNode cases, Map<byte[], byte[]> trie, int version) {
        ObjectNode c = cases.addObject().put("version", version);
        ArrayNode entries = c.putArray("entries");
        trie.forEach((key, value) -> entries.addArray().add("0x" + HEX.formatHex(key)).add("0x" + HEX.formatHex(value)));
    }

    private static Map<byte[], byte[]> entries(String... keysAndValues) {
        Map<byte[], byte[]> trie = new TreeMap<>(Arrays::compareUnsigned);
        for (int i = 0; i < keysAndValues.length; i += 2) {
            trie.put(HEX.parseHex(keysAndValues[i]), HEX.parseHex(keysAndValues[i + 1]));
        }
        return trie;
    }

    private static byte[] concat(byte[] prefix, int last) {
        byte[] out = Arrays.copyOf(prefix, prefix.length + 1);
        out[prefix.length] = (byte) last;
        return out;
    }

    private static byte[] concat(byte[] a, byte[] b) {
        return Hashing.concat(a, b);
    }
}
