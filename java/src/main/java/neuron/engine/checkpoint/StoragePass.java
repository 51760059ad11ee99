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
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.atomic.AtomicLong;
import java.util.zip.CRC32;

/**
 * A restore's sequential pass over a checkpoint's storages. The disk sees large reads of the data region in file
 * order, however small the storages are: {@code O_DIRECT} into aligned buffers where the file system takes it (no
 * page cache filled, none to drop), buffered reads whose pages are dropped behind them where it does not. Two
 * reader threads keep two reads in flight ahead of the caller, while the caller's thread, on the other core,
 * copies each buffer into the tensor that asked for it and checks the storage's CRC-32 and, for float32 targets,
 * that every value is finite. A request returns once its storage is in place and checked, as a plain read would.
 * A storage the pass already went by (a restorer that visits tensors out of file order) is not delivered: the
 * caller reads it itself. Storages nobody asks for are checked as the pass goes by them, so when
 * {@link #finish} returns every storage was checked.
 */
final class StoragePass implements AutoCloseable {
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
    private final Map<PthStorage, Integer> indexOf = new IdentityHashMap<>();
    private final Target[] targets;
    private final CRC32[] crcs;
    private final long regionStart;
    private final long regionEnd;
    private final long chunks;
    private final AtomicLong nextChunk = new AtomicLong();
    private final Object ready = new Object();
    private final long[] readyChunk;
    private volatile boolean stopped;
    private IOException readFailure;
    private final List<Thread> readers = new ArrayList<>();
    private final BlockingQueue<Integer> free;
    private final Pointer memory;
    private final long base;
    private final long bufferBytes;
    /** The caller's place: file bytes before it were delivered and checked. */
    private long position;
    private long chunk = -1;
    private int slot = -1;
    private NativeFile directFile;
    private volatile NativeFile direct;
    private NativeFile buffered;
    private int next;

    private StoragePass(Path file, List<StorageData> storages) throws IOException {
        this.file = file;
        this.storages = new ArrayList<>(storages);
        this.storages.sort(Comparator.comparingLong(StorageData::fileOffset));
        this.targets = new Target[this.storages.size()];
        this.crcs = new CRC32[this.storages.size()];
        for (int i = 0; i < crcs.length; i++) {
            crcs[i] = new CRC32();
            indexOf.put(this.storages.get(i).storage(), i);
        }
        this.regionStart = this.storages.get(0).fileOffset() / ALIGN * ALIGN;
        this.regionEnd = this.storages.stream().mapToLong(d -> d.fileOffset() + d.byteSize()).max().orElseThrow();
        this.position = regionStart;
        this.chunks = (regionEnd - regionStart + CHUNK - 1) / CHUNK;
        this.bufferBytes = Math.min(CHUNK, align(regionEnd - regionStart + ALIGN));
        int slots = (int) Math.max(1, Math.min(SLOTS, chunks));
        this.readyChunk = new long[slots];
        Arrays.fill(readyChunk, -1);
        this.free = new ArrayBlockingQueue<>(slots);
        for (int s = 0; s < slots; s++) {
            free.add(s);
        }
        this.memory = Pointer.malloc(bufferBytes * slots + ALIGN);
        if (memory.isNull()) {
            throw new IOException("no memory for " + slots + " read buffers of " + bufferBytes + " bytes");
        }
        this.base = align(memory.address());
        try {
            directFile = NativeFile.openForDirectRead(file).orElse(null);
            direct = directFile;
        } catch (IOException | RuntimeException e) {
            Pointer.free(memory);
            throw e;
        }
        for (int r = 0; r < Math.min(READERS, chunks); r++) {
            Thread reader = new Thread(this::read, "restore-reader-" + r);
            reader.setDaemon(true);
            reader.start();
            readers.add(reader);
        }
    }

    /** Starts reading {@code storages} of {@code file}; empty when none holds a byte. */
    static Optional<StoragePass> start(Path file, List<StorageData> storages) throws IOException {
        for (StorageData empty : storages) {
            if (empty.byteSize() == 0) {
                verifyCrc(file, empty, new CRC32());
            }
        }
        List<StorageData> nonEmpty = storages.stream().filter(d -> d.byteSize() > 0).toList();
        return nonEmpty.isEmpty() ? Optional.empty() : Optional.of(new StoragePass(file, nonEmpty));
    }

    /**
     * Delivers {@code storage} to {@code target} and checks it; false, and nothing done, if the pass already went
     * by it (or it is not among the pass's storages): then the caller reads it. Throws for a damaged file.
     */
    boolean deliver(PthStorage storage, Target target) throws IOException {
        Integer index = indexOf.get(storage);
        if (index == null || storages.get(index).fileOffset() < position) {
            return false;
        }
        StorageData data = storages.get(index);
        targets[index] = target;
        advanceTo(data.fileOffset() + data.byteSize());
        return true;
    }

    /** Goes through the rest of the file, checking what nobody asked for. */
    void finish() throws IOException {
        advanceTo(regionEnd);
    }

    /** Delivers and checks every file byte before {@code end}, slice by slice, as the readers bring them. */
    private void advanceTo(long end) throws IOException {
        while (position < end) {
            long wanted = (position - regionStart) / CHUNK;
            if (wanted != chunk) {
                releaseSlot();
                slot = awaitChunk(wanted);
                chunk = wanted;
            }
            long chunkStart = regionStart + chunk * CHUNK;
            long chunkEnd = Math.min(chunkStart + CHUNK, regionEnd);
            long to = Math.min(Math.min(end, chunkEnd), position + SLICE);
            check(base + slot * bufferBytes, chunkStart, position, to);
            position = to;
        }
    }

    private void releaseSlot() {
        if (slot >= 0) {
            synchronized (ready) {
                readyChunk[slot] = -1;
            }
            free.add(slot);
            slot = -1;
        }
    }

    /** Stops the readers and frees the buffers; the pass delivers nothing after this. */
    @Override
    public void close() throws IOException {
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

    /** A reader: takes a free buffer, then the next chunk (in that order, so every claimed chunk has a buffer). */
    private void read() {
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

    /** Copies and checks the file bytes [from, to) of the chunk that starts at {@code chunkStart}, at {@code address}. */
    private void check(long address, long chunkStart, long from, long to) throws IOException {
        for (int i = next; i < storages.size() && storages.get(i).fileOffset() < to; i++) {
            StorageData data = storages.get(i);
            long dataEnd = data.fileOffset() + data.byteSize();
            long a = Math.max(data.fileOffset(), from);
            long b = Math.min(dataEnd, to);
            if (b > a) {
                deliver(i, data, address + (a - chunkStart), a - data.fileOffset(), b - a);
                if (b == dataEnd) {
                    verifyCrc(data, crcs[i]);
                    checkFiniteLate(i, data);
                }
            }
        }
        while (next < storages.size() && storages.get(next).fileOffset() + storages.get(next).byteSize() <= to) {
            next++;
        }
    }

    private void deliver(int index, StorageData data, long src, long at, long n) throws IOException {
        // Records of the engine's and torch's files start 64-byte aligned, so slices split storages between
        // values; another file's may not, and is checked once whole (checkFiniteLate).
        Target target = targets[index];
        if (target != null) {
            if (target.finiteName() != null && data.fileOffset() % Float.BYTES == 0) {
                if (NativeIO.nn_copy_count_nonfinite_f32(target.address() + at, src, n / Float.BYTES) != 0) {
                    throw nonFinite(file, target.finiteName(), src, n);
                }
            } else {
                NativeMemory.copy(target.address() + at, src, n, 1);
            }
        }
        crcs[index].update(NativeMemory.view(src, (int) n));
    }

    private void checkFiniteLate(int index, StorageData data) throws PthFormatException {
        Target target = targets[index];
        if (target != null && target.finiteName() != null && data.fileOffset() % Float.BYTES != 0) {
            requireFinite(file, target.finiteName(), target.address(), data.byteSize());
        }
    }

    /** Throws, naming {@code name}, if any of the float32 values at {@code address} is NaN or infinite. */
    static void requireFinite(Path file, String name, long address, long bytes) throws PthFormatException {
        if (NativeIO.nn_count_nonfinite_f32(address, bytes / Float.BYTES) != 0) {
            throw nonFinite(file, name, address, bytes);
        }
    }

    private static PthFormatException nonFinite(Path file, String name, long src, long n) {
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
