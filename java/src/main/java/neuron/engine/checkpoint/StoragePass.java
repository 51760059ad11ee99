package neuron.engine.checkpoint;

import neuron.engine.nativeio.NativeFile;
import neuron.engine.nativeio.NativeIO;
import neuron.engine.nativeio.NativeIOException;
import neuron.engine.nativeio.NativeMemory;
import neuron.engine.pth.PthFormatException;
import neuron.engine.pth.PthStorage;
import neuron.engine.pth.StorageData;
import org.bytedeco.javacpp.Pointer;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.atomic.AtomicLong;
import java.util.zip.CRC32;

/**
 * A restore's one sequential pass over a checkpoint's storages. The disk sees large reads of the whole data
 * region in file order, however a restorer visited the tensors and however small they are: {@code O_DIRECT}
 * into aligned buffers where the file system takes it (no page cache filled, none to drop), buffered reads whose
 * pages are dropped behind them where it does not. Two reader threads keep two reads in flight while the calling
 * thread, on the other core, copies each buffer into the tensors waiting for it, checks every storage's CRC-32
 * and that every float32 value is finite. A failed check throws before the pass returns; the memory of the
 * targets then holds part of the file, and the loader discards the state built on it.
 */
final class StoragePass {
    /** One read: large enough that the disk streams, small enough that a 64 MiB state overlaps reads and checks. */
    static final int CHUNK = 8 << 20;
    /** Buffers in the ring: two in flight, two being checked or waiting. */
    private static final int SLOTS = 4;
    private static final int READERS = 2;
    /** The checks walk a buffer in slices that stay in the core's cache between the copy and the CRC. */
    private static final int SLICE = 512 << 10;
    private static final int ALIGN = NativeFile.DIRECT_ALIGNMENT;

    /** Where a storage's bytes go; {@code finiteName} (float32 targets only) names it in a finite-check failure. */
    record Target(long address, String finiteName) {
    }

    private final Path file;
    private final List<StorageData> storages;
    private final Map<PthStorage, List<Target>> targets;
    private final CRC32[] crcs;
    private final long regionStart;
    private final long regionEnd;
    private final long chunks;
    private final AtomicLong nextChunk = new AtomicLong();
    private final Object ready = new Object();
    private final long[] readyChunk;
    private volatile boolean stopped;
    private IOException readFailure;
    private NativeFile directFile;
    private volatile NativeFile direct;
    private NativeFile buffered;
    private int next;

    private StoragePass(Path file, List<StorageData> storages, Map<PthStorage, List<Target>> targets) {
        this.file = file;
        this.storages = new ArrayList<>(storages);
        this.storages.sort(Comparator.comparingLong(StorageData::fileOffset));
        this.targets = targets;
        this.crcs = new CRC32[this.storages.size()];
        for (int i = 0; i < crcs.length; i++) {
            crcs[i] = new CRC32();
        }
        this.regionStart = this.storages.get(0).fileOffset() / ALIGN * ALIGN;
        this.regionEnd = this.storages.stream().mapToLong(d -> d.fileOffset() + d.byteSize()).max().orElseThrow();
        this.chunks = (regionEnd - regionStart + CHUNK - 1) / CHUNK;
        this.readyChunk = new long[SLOTS];
        Arrays.fill(readyChunk, -1);
    }

    /**
     * Reads {@code storages} of {@code file}, copies each into its {@code targets} (none: checked only) and checks
     * them; throws {@link PthFormatException} for a damaged file.
     */
    static void run(Path file, List<StorageData> storages, Map<PthStorage, List<Target>> targets) throws IOException {
        if (storages.isEmpty()) {
            return;
        }
        new StoragePass(file, storages, targets).run();
    }

    private void run() throws IOException {
        for (StorageData empty : storages) {
            if (empty.byteSize() == 0) {
                verifyCrc(empty, new CRC32());
            }
        }
        directFile = NativeFile.openForDirectRead(file).orElse(null);
        direct = directFile;
        long bufferBytes = Math.min(CHUNK, align(regionEnd - regionStart + ALIGN));
        int slots = (int) Math.min(SLOTS, chunks + 1);
        Pointer memory = Pointer.malloc(bufferBytes * slots + ALIGN);
        List<Thread> readers = new ArrayList<>();
        try {
            if (memory.isNull()) {
                throw new IOException("no memory for " + slots + " read buffers of " + bufferBytes + " bytes");
            }
            long base = align(memory.address());
            BlockingQueue<Integer> free = new ArrayBlockingQueue<>(slots);
            for (int s = 0; s < slots; s++) {
                free.add(s);
            }
            for (int r = 0; r < Math.min(READERS, chunks); r++) {
                Thread reader = new Thread(() -> read(free, base, bufferBytes), "restore-reader-" + r);
                reader.setDaemon(true);
                reader.start();
                readers.add(reader);
            }
            for (long chunk = 0; chunk < chunks; chunk++) {
                int slot = awaitChunk(chunk);
                long start = regionStart + chunk * CHUNK;
                check(base + slot * bufferBytes, start, Math.min(start + CHUNK, regionEnd));
                synchronized (ready) {
                    readyChunk[slot] = -1;
                }
                free.add(slot);
            }
        } finally {
            stopped = true;
            for (Thread reader : readers) {
                reader.interrupt();
            }
            for (Thread reader : readers) {
                joinUninterruptibly(reader);
            }
            Pointer.free(memory);
            closeFiles();
        }
    }

    /** A reader: takes a free buffer, then the next chunk (in that order, so every claimed chunk has a buffer). */
    private void read(BlockingQueue<Integer> free, long base, long bufferBytes) {
        try {
            while (!stopped) {
                int slot = free.take();
                long chunk = nextChunk.getAndIncrement();
                if (chunk >= chunks) {
                    return;
                }
                long start = regionStart + chunk * CHUNK;
                long need = Math.min(CHUNK, regionEnd - start);
                long got = readChunk(base + slot * bufferBytes, start, need);
                if (got < need) {
                    throw new PthFormatException(file, "truncated: storages end at byte " + regionEnd
                            + ", the file at " + (start + got));
                }
                synchronized (ready) {
                    readyChunk[slot] = chunk;
                    ready.notifyAll();
                }
            }
        } catch (InterruptedException e) {
            // the pass ended (failed or done) before this reader ran out of chunks
        } catch (IOException | RuntimeException e) {
            synchronized (ready) {
                if (readFailure == null) {
                    readFailure = e instanceof IOException io ? io : new IOException(e);
                }
                ready.notifyAll();
            }
        }
    }

    /** One chunk: O_DIRECT in whole blocks; else buffered, its pages dropped behind it (a hint: a refusal changes nothing). */
    private long readChunk(long address, long start, long need) throws IOException {
        NativeFile in = direct;
        if (in != null) {
            try {
                return Math.min(need, in.readUpTo(address, align(need), start));
            } catch (NativeIOException e) {
                if (e.errno() != NativeIOException.EINVAL) {
                    throw e;
                }
                direct = null;   // accepted at open, refused at read (some file systems): buffered from here on
            }
        }
        NativeFile plain = bufferedFile();
        long got = plain.readUpTo(address, need, start);
        try {
            plain.dropCached(start, need);
        } catch (IOException hintRefused) {
            // the pages stay cached until the kernel needs them
        }
        return got;
    }

    private synchronized NativeFile bufferedFile() throws IOException {
        if (buffered == null) {
            buffered = NativeFile.openForRead(file);
        }
        return buffered;
    }

    private int awaitChunk(long chunk) throws IOException {
        synchronized (ready) {
            while (true) {
                if (readFailure != null) {
                    throw readFailure;
                }
                for (int s = 0; s < readyChunk.length; s++) {
                    if (readyChunk[s] == chunk) {
                        return s;
                    }
                }
                try {
                    ready.wait();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new InterruptedIOException("restore of " + file + " interrupted");
                }
            }
        }
    }

    /** Copies and checks the bytes of file range [start, end), at {@code address}, slice by slice. */
    private void check(long address, long start, long end) throws IOException {
        for (long slice = start; slice < end; slice += SLICE) {
            long sliceEnd = Math.min(slice + SLICE, end);
            for (int i = next; i < storages.size() && storages.get(i).fileOffset() < sliceEnd; i++) {
                StorageData data = storages.get(i);
                long from = Math.max(data.fileOffset(), slice);
                long to = Math.min(data.fileOffset() + data.byteSize(), sliceEnd);
                if (to > from) {
                    deliver(i, data, address + (from - start), from - data.fileOffset(), to - from);
                    if (to == data.fileOffset() + data.byteSize()) {
                        verifyCrc(data, crcs[i]);
                        checkFiniteLate(data);
                    }
                }
            }
            while (next < storages.size() && storages.get(next).fileOffset() + storages.get(next).byteSize() <= sliceEnd) {
                next++;
            }
        }
    }

    private void deliver(int index, StorageData data, long src, long at, long n) throws IOException {
        // Records of the engine's and torch's files start 64-byte aligned, so slices split storages between
        // values; another file's may not, and is checked once whole (checkFiniteLate).
        boolean counted = data.fileOffset() % Float.BYTES != 0;
        for (Target target : targets.getOrDefault(data.storage(), List.of())) {
            if (target.finiteName() != null && !counted) {
                counted = true;
                if (NativeIO.nn_copy_count_nonfinite_f32(target.address() + at, src, n / Float.BYTES) != 0) {
                    throw nonFinite(target.finiteName(), src, n);
                }
            } else {
                NativeMemory.copy(target.address() + at, src, n, 1);
            }
        }
        crcs[index].update(NativeMemory.view(src, (int) n));
    }

    private void checkFiniteLate(StorageData data) throws PthFormatException {
        if (data.fileOffset() % Float.BYTES == 0) {
            return;
        }
        for (Target target : targets.getOrDefault(data.storage(), List.of())) {
            if (target.finiteName() != null
                    && NativeIO.nn_count_nonfinite_f32(target.address(), data.byteSize() / Float.BYTES) != 0) {
                throw nonFinite(target.finiteName(), target.address(), data.byteSize());
            }
        }
    }

    private PthFormatException nonFinite(String name, long src, long n) {
        FloatBuffer values = NativeMemory.view(src, (int) n).asFloatBuffer();
        String what = "an infinity";
        while (values.hasRemaining()) {
            if (Float.isNaN(values.get())) {
                what = "NaN";
                break;
            }
        }
        return new PthFormatException(file, name + " holds " + what + ", which no saved state has: the file is damaged");
    }

    private void verifyCrc(StorageData data, CRC32 crc) throws PthFormatException {
        verifyCrc(file, data, crc);
    }

    /** Throws for a storage whose bytes' CRC-32 is not the one the file's directory gives. */
    static void verifyCrc(Path file, StorageData data, CRC32 crc) throws PthFormatException {
        if ((int) crc.getValue() != data.crc()) {
            throw new PthFormatException(file, String.format("CRC-32 mismatch in record data/%s: directory says "
                    + "%08x, data has %08x", data.key(), data.crc(), (int) crc.getValue()));
        }
    }

    private void closeFiles() throws IOException {
        try (NativeFile d = directFile; NativeFile b = buffered) {
            directFile = null;
            direct = null;
            buffered = null;
        }
    }

    private static long align(long n) {
        return (n + ALIGN - 1) / ALIGN * ALIGN;
    }

    private static void joinUninterruptibly(Thread t) {
        boolean interrupted = false;
        while (true) {
            try {
                t.join();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }
}
