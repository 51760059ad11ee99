package neuron.engine.pth;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import java.util.zip.CRC32;

/**
 * Reads a torch.save {@code .pth} file safely: the archive prefix comes from the central directory, optional
 * records may be missing and storages may come in any order (torch 1.13 writes them sorted as strings).
 * {@code data.pkl} goes through an allow-list {@link Unpickler}; tensor bytes stay in the file mapping.
 * <p>Lifecycle: {@link #open} → {@link #root()}, {@link #storages()}, {@link #data}, {@link #verify()} →
 * {@link #close()}. Any damaged, hostile or unsupported content gives a {@link PthFormatException} naming the
 * file; other {@link IOException}s are the file system's. Not thread-safe.
 */
public final class PthReader implements Closeable {
    private static final int MIN_VERSION = 1;
    private static final int MAX_VERSION = 10;
    private static final int MAX_SMALL_RECORD = 64;

    private final Path file;
    private final MappedFile mapped;
    private final ZipDirectory directory;
    private final Map<PthStorage, StorageData> data = new LinkedHashMap<>();
    private final Map<String, StorageData> byKey = new LinkedHashMap<>();
    private Object root;

    private PthReader(Path file, MappedFile mapped, ZipDirectory directory) {
        this.file = file;
        this.mapped = mapped;
        this.directory = directory;
    }

    public static PthReader open(Path file) throws IOException {
        MappedFile mapped = MappedFile.open(file);
        try {
            PthReader reader = new PthReader(file, mapped, ZipDirectory.read(file, mapped));
            reader.load();
            return reader;
        } catch (PthFormatException e) {
            mapped.close();
            throw e;
        } catch (RuntimeException | StackOverflowError | InternalError e) {
            // every check is explicit; this only keeps an overlooked case from escaping unchecked
            // (InternalError: the mapped file shrank while it was read)
            mapped.close();
            throw new PthFormatException(file, "unreadable: " + e, e);
        } catch (IOException e) {
            mapped.close();
            throw e;
        }
    }

    private void load() throws IOException {
        Map<String, ZipRecord> records = directory.records();
        if (records.containsKey("constants.pkl")) {
            throw fail("a TorchScript archive (constants.pkl), not a torch.save file");
        }
        checkVersion(records.containsKey("version") ? records.get("version") : records.get(".data/version"));
        ZipRecord byteorder = records.get("byteorder");
        if (byteorder != null && !"little".equals(smallText(byteorder))) {
            throw fail("byte order '" + smallText(byteorder) + "' is not supported, only little-endian");
        }
        ZipRecord pickle = records.get("data.pkl");
        if (pickle == null) {
            throw fail("no data.pkl record");
        }
        long limit = Math.min(StorageData.MAX_VIEW_BYTES, Runtime.getRuntime().maxMemory() / 32);
        if (pickle.size() > limit) {
            throw fail("data.pkl of " + pickle.size() + " bytes is larger than this reader accepts (" + limit + ")");
        }
        root = Unpickler.load(file, mapped.slice(pickle.dataOffset(), (int) pickle.size()), this::resolve);
    }

    private void checkVersion(ZipRecord version) throws IOException {
        if (version == null) {
            throw fail("no version record");
        }
        String text = smallText(version).trim();
        int value;
        try {
            value = Integer.parseInt(text);
        } catch (NumberFormatException e) {
            value = -1;
        }
        if (value < MIN_VERSION || value > MAX_VERSION) {
            throw fail("unsupported format version '" + text.replaceAll("[^\\x20-\\x7e]", "?") + "'");
        }
    }

    private String smallText(ZipRecord record) throws IOException {
        if (record.size() > MAX_SMALL_RECORD) {
            throw fail("record " + record.name() + " is " + record.size() + " bytes, expected a short text");
        }
        ByteBuffer bytes = mapped.slice(record.dataOffset(), (int) record.size());
        return StandardCharsets.ISO_8859_1.decode(bytes).toString();
    }

    /** A persistent id's storage: one instance per key; its record must hold exactly numel elements. */
    private PthStorage resolve(String key, DType dtype, long numel, String location) throws PthFormatException {
        StorageData known = byKey.get(key);
        if (known != null) {
            if (known.storage().dtype() != dtype || known.storage().numel() != numel) {
                throw fail("storage " + key + " is referenced with different dtypes or sizes");
            }
            return known.storage();
        }
        ZipRecord record = directory.records().get("data/" + key);
        if (record == null) {
            throw fail("no record data/" + key + " for a storage");
        }
        if (numel > record.size() / dtype.elementSize() || numel * dtype.elementSize() != record.size()) {
            throw fail("storage " + key + " declares " + numel + " " + dtype.pythonName() + " elements but its record has "
                    + record.size() + " bytes");
        }
        PthStorage storage = new PthStorage(dtype, numel, location);
        StorageData stored = new StorageData(key, storage, mapped, record.dataOffset(), record.crc());
        byKey.put(key, stored);
        data.put(storage, stored);
        return storage;
    }

    public Path file() {
        return file;
    }

    /** The prefix of every record name; PyTorch derives it from the file name it saved to. */
    public String archiveName() {
        return directory.prefix();
    }

    /** Record names without the prefix, in central-directory order. */
    public List<String> recordNames() {
        return Collections.unmodifiableList(new ArrayList<>(directory.records().keySet()));
    }

    /** The value tree: Map, PyOrderedDict, List, PyTuple, Long, BigInteger, Double, String, Boolean, null, PthTensor. */
    public Object root() {
        return root;
    }

    /** The storages the tree refers to, in first-encounter order. */
    public List<StorageData> storages() {
        return Collections.unmodifiableList(new ArrayList<>(data.values()));
    }

    public StorageData data(PthStorage storage) {
        StorageData stored = data.get(storage);
        if (stored == null) {
            throw new IllegalArgumentException(storage + " is not a storage of " + file);
        }
        return stored;
    }

    /** The sum of the storages' bytes. */
    public long storageBytes() {
        return data.keySet().stream().mapToLong(PthStorage::nbytes).sum();
    }

    /** Checks the CRC-32 of every record against the central directory (torch.load itself never does). */
    public void verify() throws IOException {
        verify(name -> true);
    }

    /**
     * Checks the CRC-32 of the records whose names {@code which} accepts (e.g. all but the storages, which a
     * restore checks as it reads them).
     */
    public void verify(Predicate<String> which) throws IOException {
        CRC32 crc = new CRC32();
        for (ZipRecord record : directory.records().values()) {
            if (!which.test(record.name())) {
                continue;
            }
            crc.reset();
            try {
                for (long at = 0; at < record.size(); at += MappedFile.STEP) {
                    crc.update(mapped.slice(record.dataOffset() + at,
                            (int) Math.min(MappedFile.STEP, record.size() - at)));
                }
            } catch (InternalError shrank) {
                throw fail("the file shrank while it was read (record " + record.name() + ")");
            }
            if ((int) crc.getValue() != record.crc()) {
                throw fail(String.format("CRC-32 mismatch in record %s: directory says %08x, data has %08x",
                        record.name(), record.crc(), (int) crc.getValue()));
            }
        }
    }

    @Override
    public void close() throws IOException {
        mapped.close();
    }

    private PthFormatException fail(String reason) {
        return new PthFormatException(file, reason);
    }
}
