package neuron.engine.hf;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import neuron.engine.pth.DType;
import neuron.engine.pth.MappedFile;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A {@code .safetensors} file read from a mapping: the header is checked whole before any tensor is used (known
 * dtypes, shapes that match their byte ranges, ranges that tile the data section without gap or overlap, as the
 * format requires), and tensor bytes stay in the mapping. Any violation is an {@link IOException} naming the file.
 */
public final class SafetensorsFile implements Closeable {
    /** The format's own bound on the header. */
    private static final long MAX_HEADER = 100_000_000;

    private final Path file;
    private final MappedFile mapped;
    private final long dataStart;
    private final Map<String, String> metadata;
    private final List<Entry> entries;

    /** One tensor: dtype, shape and its byte range within the data section. */
    public record Entry(String name, DType dtype, long[] shape, long begin, long end) {
    }

    private SafetensorsFile(Path file, MappedFile mapped, long dataStart, Map<String, String> metadata,
                            List<Entry> entries) {
        this.file = file;
        this.mapped = mapped;
        this.dataStart = dataStart;
        this.metadata = metadata;
        this.entries = entries;
    }

    public static SafetensorsFile open(Path file) throws IOException {
        MappedFile mapped = MappedFile.open(file);
        try {
            return read(file, mapped);
        } catch (IOException | RuntimeException e) {
            mapped.close();
            throw e;
        }
    }

    private static SafetensorsFile read(Path file, MappedFile mapped) throws IOException {
        if (mapped.size() < 8) {
            throw fail(file, "shorter than its 8-byte header length");
        }
        long headerLength = mapped.slice(0, 8).getLong();
        if (headerLength < 2 || headerLength > Math.min(MAX_HEADER, mapped.size() - 8)) {
            throw fail(file, "header length " + headerLength + " does not fit a file of " + mapped.size() + " bytes");
        }
        ByteBuffer headerBytes = mapped.slice(8, (int) headerLength);
        byte[] json = new byte[headerBytes.remaining()];
        headerBytes.get(json);
        JsonNode header;
        try {
            header = new ObjectMapper().readTree(new String(json, StandardCharsets.UTF_8));
        } catch (JsonProcessingException e) {
            throw fail(file, "header is not JSON: " + e.getOriginalMessage());
        }
        if (header == null || !header.isObject()) {
            throw fail(file, "header is not a JSON object");
        }
        long dataStart = 8 + headerLength;
        Map<String, String> metadata = new LinkedHashMap<>();
        List<Entry> entries = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> fields = header.fields(); fields.hasNext(); ) {
            Map.Entry<String, JsonNode> field = fields.next();
            if (field.getKey().equals("__metadata__")) {
                field.getValue().fields().forEachRemaining(m -> metadata.put(m.getKey(), m.getValue().asText()));
            } else {
                entries.add(entry(file, field.getKey(), field.getValue()));
            }
        }
        List<Entry> byOffset = new ArrayList<>(entries);
        byOffset.sort(Comparator.comparingLong(Entry::begin));
        long expected = 0;
        for (Entry e : byOffset) {
            if (e.begin() != expected) {
                throw fail(file, "tensor " + e.name() + " starts at " + e.begin() + ", not at " + expected
                        + " (the data must be tiled without gaps or overlaps)");
            }
            expected = e.end();
        }
        if (expected != mapped.size() - dataStart) {
            throw fail(file, "the tensors cover " + expected + " bytes of a data section of "
                    + (mapped.size() - dataStart));
        }
        return new SafetensorsFile(file, mapped, dataStart, metadata, List.copyOf(entries));
    }

    private static Entry entry(Path file, String name, JsonNode node) throws IOException {
        JsonNode shape = node.get("shape");
        JsonNode offsets = node.get("data_offsets");
        DType dtype = node.hasNonNull("dtype") ? SafetensorsDTypes.of(node.get("dtype").asText()) : null;
        if (dtype == null || shape == null || !shape.isArray() || offsets == null || !offsets.isArray()
                || offsets.size() != 2 || !offsets.get(0).canConvertToLong() || !offsets.get(1).canConvertToLong()) {
            throw fail(file, "tensor " + name + " needs a known dtype, a shape and two data_offsets: " + node);
        }
        long[] dims = new long[shape.size()];
        long bytes = dtype.elementSize();
        try {
            for (int d = 0; d < dims.length; d++) {
                if (!shape.get(d).canConvertToLong() || shape.get(d).asLong() < 0) {
                    throw fail(file, "tensor " + name + " has a bad shape " + shape);
                }
                dims[d] = shape.get(d).asLong();
                bytes = Math.multiplyExact(bytes, dims[d]);
            }
        } catch (ArithmeticException overflow) {
            throw fail(file, "tensor " + name + " has a shape too large: " + shape);
        }
        long begin = offsets.get(0).asLong();
        long end = offsets.get(1).asLong();
        if (begin < 0 || end - begin != bytes) {
            throw fail(file, "tensor " + name + " of shape " + shape + " spans bytes " + begin + ".." + end
                    + ", not " + bytes);
        }
        return new Entry(name, dtype, dims, begin, end);
    }

    public Path file() {
        return file;
    }

    public Map<String, String> metadata() {
        return metadata;
    }

    /** The tensors in header order. */
    public List<Entry> entries() {
        return entries;
    }

    /** Consecutive views of the entry's bytes, each at most {@link MappedFile#STEP}. */
    public List<ByteBuffer> chunks(Entry entry) throws IOException {
        List<ByteBuffer> chunks = new ArrayList<>();
        for (long at = entry.begin(); at < entry.end(); at += MappedFile.STEP) {
            chunks.add(mapped.slice(dataStart + at, (int) Math.min(MappedFile.STEP, entry.end() - at)));
        }
        return chunks;
    }

    @Override
    public void close() throws IOException {
        mapped.close();
    }

    private static IOException fail(Path file, String reason) {
        return new IOException(file + ": " + reason);
    }
}
