package neuron.engine.dist;

import neuron.engine.nativeio.NativeFile;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32;

/**
 * The small file that makes a sharded step complete ({@code manifest.json} in the step's directory), written
 * once every rank has reported its shard on disk: the step, the number of ranks, and each shard's file name,
 * size and CRC-32 (of the whole file, as {@code zlib.crc32} computes it). A step without one, or whose shards
 * differ from it, is never loaded.
 */
record ShardManifest(long step, int worldSize, List<Shard> shards) {
    static final String FILE = "manifest.json";
    private static final ObjectMapper JSON = new ObjectMapper();

    /** One rank's shard as it reported it. */
    record Shard(int rank, String file, long bytes, long crc32) {
        /** "0 rank-0-of-2.pth 1234 89abcdef" (rank, file, bytes, CRC-32 in hex): a report as it travels through the store. */
        String encode() {
            return rank + " " + file + " " + bytes + " " + Long.toHexString(crc32);
        }

        static Shard decode(String text) {
            String[] f = text.split(" ");
            if (f.length != 4) {
                throw new IllegalArgumentException("malformed shard report '" + text + "'");
            }
            return new Shard(Integer.parseInt(f[0]), f[1], Long.parseLong(f[2]), Long.parseLong(f[3], 16));
        }

        /** Null if {@code dir}'s file is this shard, else what differs. */
        String mismatch(Path dir) throws IOException {
            Path path = dir.resolve(file);
            if (!Files.isRegularFile(path)) {
                return path + " is missing";
            }
            long size = Files.size(path);
            if (size != bytes) {
                return path + " has " + size + " bytes, the manifest says " + bytes;
            }
            long crc = fileCrc32(path);
            return crc == crc32 ? null : path + " has CRC-32 " + Long.toHexString(crc) + ", the manifest says "
                    + Long.toHexString(crc32);
        }
    }

    ShardManifest {
        shards = List.copyOf(shards);
        if (shards.size() != worldSize) {
            throw new IllegalArgumentException("a manifest of " + worldSize + " ranks lists " + shards.size()
                    + " shards");
        }
        for (int r = 0; r < worldSize; r++) {
            if (shards.get(r).rank() != r) {
                throw new IllegalArgumentException("shard " + r + " of the manifest is rank " + shards.get(r).rank());
            }
        }
    }

    /** Null if every shard in {@code dir} is the one listed, else the first difference. */
    String mismatch(Path dir) throws IOException {
        for (Shard s : shards) {
            String m = s.mismatch(dir);
            if (m != null) {
                return m;
            }
        }
        return null;
    }

    byte[] toJson() throws IOException {
        ObjectNode root = JSON.createObjectNode();
        root.put("step", step);
        root.put("world_size", worldSize);
        ArrayNode list = root.putArray("shards");
        for (Shard s : shards) {
            list.addObject().put("rank", s.rank()).put("file", s.file()).put("bytes", s.bytes())
                    .put("crc32", s.crc32());
        }
        return JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(root);
    }

    static ShardManifest read(Path file) throws IOException {
        JsonNode root = JSON.readTree(file.toFile());
        List<Shard> shards = new ArrayList<>();
        for (JsonNode s : root.path("shards")) {
            String name = s.path("file").asText();
            if (name.isEmpty() || name.contains("/") || name.startsWith(".")) {
                throw new IOException(file + ": a shard file name '" + name + "' outside its step directory");
            }
            shards.add(new Shard(s.path("rank").asInt(-1), name, s.path("bytes").asLong(-1),
                    s.path("crc32").asLong(-1)));
        }
        if (!root.path("step").canConvertToLong() || !root.path("world_size").canConvertToInt()) {
            throw new IOException(file + ": no step or world_size");
        }
        try {
            return new ShardManifest(root.path("step").asLong(), root.path("world_size").asInt(), shards);
        } catch (IllegalArgumentException e) {
            throw new IOException(file + ": " + e.getMessage(), e);
        }
    }

    /** CRC-32 of a whole file, read in 4 MiB pieces. */
    static long fileCrc32(Path file) throws IOException {
        CRC32 crc = new CRC32();
        ByteBuffer buffer = ByteBuffer.allocateDirect(4 << 20);
        try (FileChannel channel = NativeFile.openChannel(file)) {
            while (channel.read(buffer.clear()) > 0) {
                crc.update(buffer.flip());
            }
        }
        return crc.getValue();
    }
}
