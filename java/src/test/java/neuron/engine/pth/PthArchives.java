package neuron.engine.pth;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;

/** Hand-made archives for hostile-input tests: any records, any data.pkl bytes, PyTorch's zip layout. */
final class PthArchives {
    private PthArchives() {
    }

    /** Writes {@code records} (name without prefix to bytes) in order under prefix {@code archive}. */
    static Path write(Path file, Map<String, byte[]> records) throws IOException {
        try (FileChannelSink sink = FileChannelSink.create(file)) {
            ZipStreamWriter zip = new ZipStreamWriter(sink, "archive");
            for (Map.Entry<String, byte[]> record : records.entrySet()) {
                zip.writeRecord(record.getKey(), ByteBuffer.wrap(record.getValue()));
            }
            zip.finish();
        }
        return file;
    }

    /** Pickle bytes from parts: a String's chars are bytes (ISO-8859-1), an Integer is one byte. */
    static byte[] pickle(Object... parts) {
        StringBuilder out = new StringBuilder();
        for (Object part : parts) {
            out.append(part instanceof Integer b ? String.valueOf((char) (b & 0xFF)) : (String) part);
        }
        return out.toString().getBytes(StandardCharsets.ISO_8859_1);
    }

    /** BINUNICODE of an ASCII string. */
    static String str(String s) {
        return "X" + (char) s.length() + "\0\0\0" + s;
    }

    /**
     * {@code _rebuild_tensor_v2} of float32 storage "0" holding {@code numel} elements, with the given opcode
     * strings for offset, size tuple and stride tuple.
     */
    static String tensor(int numel, String offset, String size, String stride) {
        return "ctorch._utils\n_rebuild_tensor_v2\n((" + str("storage") + "ctorch\nFloatStorage\n" + str("0")
                + str("cpu") + "K" + (char) numel + "tQ" + offset + size + stride
                + "\u0089ccollections\nOrderedDict\n)Rt" + "R";
    }

    static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }
}
