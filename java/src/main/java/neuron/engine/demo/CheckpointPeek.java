package neuron.engine.demo;

import neuron.engine.pth.DType;
import neuron.engine.pth.PthReader;
import neuron.engine.pth.PthTensor;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * What the demo reads from a checkpoint file without loading LibTorch: its progress (step or block) and, for a
 * validator, the non-zero scores and weights by uid.
 */
record CheckpointPeek(long progress, Map<Integer, Float> scores, Map<Integer, Float> weights) {

    static CheckpointPeek read(Path file, String progressKey) throws IOException {
        try (PthReader reader = PthReader.open(file)) {
            reader.verify();
            if (!(reader.root() instanceof Map<?, ?> root) || !(root.get(progressKey) instanceof Number progress)) {
                throw new IOException(file + " has no '" + progressKey + "'");
            }
            return new CheckpointPeek(progress.longValue(), floatsByUid(reader, root.get("scores")),
                    floatsByUid(reader, root.get("weights")));
        }
    }

    /** The non-zero entries of a float32 vector indexed by uid; empty when the checkpoint has none (a miner's). */
    private static Map<Integer, Float> floatsByUid(PthReader reader, Object value) throws IOException {
        Map<Integer, Float> byUid = new TreeMap<>();
        if (value instanceof PthTensor t && t.dims() == 1 && t.dtype() == DType.FLOAT32) {
            ByteBuffer bytes = reader.data(t.storage()).slice(t.storageOffset() * Float.BYTES,
                    Math.toIntExact(t.numel() * Float.BYTES)).order(ByteOrder.LITTLE_ENDIAN);
            for (int uid = 0; uid < t.numel(); uid++) {
                float f = bytes.getFloat(uid * Float.BYTES);
                if (f != 0f) {
                    byUid.put(uid, f);
                }
            }
        }
        return byUid;
    }

    /** "uid 1: 0.25, uid 2: 0.0100", or "all zero". */
    static String listed(Map<Integer, Float> byUid) {
        return byUid.isEmpty() ? "all zero" : byUid.entrySet().stream()
                .map(e -> String.format(Locale.ROOT, "uid %d: %.6g", e.getKey(), e.getValue()))
                .collect(Collectors.joining(", "));
    }
}
