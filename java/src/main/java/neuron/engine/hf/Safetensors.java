package neuron.engine.hf;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import neuron.engine.pth.DType;
import neuron.engine.pth.FileChannelSink;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Writes a {@code .safetensors} file: an 8-byte little-endian header length, a JSON header (padded with spaces to a
 * multiple of 8, so the data is aligned) naming each tensor's dtype, shape and {@code data_offsets} into the data,
 * then the tensors' bytes back to back in header order. The bytes stream from the caller's views (a checkpoint's
 * mapping) to the file without a copy in the heap; the file appears under its name only once complete and synced.
 */
public final class Safetensors {
    private static final JsonNodeFactory JSON = JsonNodeFactory.instance;

    private Safetensors() {
    }

    /** One tensor to write: row-major little-endian bytes, as views whose remaining bytes add up to its size. */
    public record Tensor(String name, DType dtype, long[] shape, List<ByteBuffer> bytes) {
        long nbytes() {
            return Arrays.stream(shape).reduce(1, Math::multiplyExact) * dtype.elementSize();
        }
    }

    /** Writes {@code tensors} with {@code metadata} (the {@code __metadata__} entry); returns the file's size. */
    public static long write(Path file, Map<String, String> metadata, List<Tensor> tensors) throws IOException {
        ObjectNode header = JSON.objectNode();
        ObjectNode meta = header.putObject("__metadata__");
        metadata.forEach(meta::put);
        long offset = 0;
        for (Tensor tensor : tensors) {
            long size = tensor.nbytes();
            long given = tensor.bytes().stream().mapToLong(ByteBuffer::remaining).sum();
            if (given != size) {
                throw new IllegalArgumentException(tensor.name() + ": " + given + " bytes for " + size);
            }
            ObjectNode entry = header.putObject(tensor.name());
            entry.put("dtype", SafetensorsDTypes.code(tensor.dtype()));
            ArrayNode shape = entry.putArray("shape");
            Arrays.stream(tensor.shape()).forEach(shape::add);
            entry.putArray("data_offsets").add(offset).add(offset + size);
            offset += size;
        }
        byte[] json = new ObjectMapper().writeValueAsString(header).getBytes(StandardCharsets.UTF_8);
        int padded = (json.length + 7) / 8 * 8;
        ByteBuffer head = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
        head.putLong(padded).put(json);
        while (head.hasRemaining()) {
            head.put((byte) ' ');
        }
        head.flip();

        Path partial = file.resolveSibling(file.getFileName() + ".tmp");
        try (FileChannelSink sink = FileChannelSink.create(partial)) {
            sink.write(head);
            for (Tensor tensor : tensors) {
                for (ByteBuffer view : tensor.bytes()) {
                    sink.write(view.duplicate());
                }
            }
            sink.force();
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(partial);
            throw e;
        }
        Files.move(partial, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        return 8L + padded + offset;
    }
}
