package neuron.engine.journal;

import java.io.File;
import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Properties;
import java.util.TreeMap;
import java.util.function.BiConsumer;
import java.util.function.Predicate;
import net.openhft.chronicle.bytes.Bytes;
import net.openhft.chronicle.queue.ExcerptAppender;
import net.openhft.chronicle.queue.ExcerptTailer;
import net.openhft.chronicle.queue.RollCycles;
import net.openhft.chronicle.queue.TailerDirection;
import net.openhft.chronicle.queue.impl.RollingResourcesCache;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueue;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueueBuilder;
import net.openhft.chronicle.queue.impl.table.SingleTableStore;
import net.openhft.chronicle.wire.DocumentContext;
import neuron.engine.chain.Block;
import neuron.engine.chain.BlockEvent;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The validator's record of what it saw (a Chronicle Queue in a directory): every block, appended before the
 * validator acts on it, and which submissions it evaluated for each window, so that a replay after a crash sees
 * exactly the same inputs. After a reorganisation the first block of the new branch is appended with a number at or
 * below the last one: it retracts the blocks journaled from that number on, which replays then skip.
 *
 * <p>Appends come from one thread (the validator loop); they survive a kill of the process at any moment (a record
 * being written when the process dies never becomes visible), not a power loss. Cycle files hold a fixed range of
 * block numbers ({@link BlockClock}), so {@link #removeCyclesBefore} can drop whole files by block number.
 */
public final class BlockJournal implements AutoCloseable {
    public static final int DEFAULT_BLOCKS_PER_CYCLE = 10_000;
    private static final Logger log = LoggerFactory.getLogger(BlockJournal.class);
    private static final String SETTINGS_FILE = "block-journal.properties";
    private static final String BLOCKS_PER_CYCLE = "blocksPerCycle";
    private static final RollCycles ROLL_CYCLE = RollCycles.FAST_DAILY;
    private static final long EPOCH = 0;

    private final Path dir;
    private final BlockClock clock;
    private final SingleChronicleQueue queue;
    /** File names of cycles (Chronicle's own naming), for listing and retention. */
    private final RollingResourcesCache files;
    private ExcerptAppender appender;

    private BlockJournal(Path dir, int blocksPerCycle) {
        this.dir = dir;
        this.clock = new BlockClock(blocksPerCycle, 0);
        this.queue = SingleChronicleQueueBuilder.binary(dir.toFile())
                .rollCycle(ROLL_CYCLE)
                .epoch(EPOCH)
                .timeProvider(clock)
                .build();
        this.files = new RollingResourcesCache(ROLL_CYCLE, EPOCH,
                name -> new File(dir.toFile(), name + SingleChronicleQueue.SUFFIX),
                file -> file.getName().substring(0, file.getName().length() - SingleChronicleQueue.SUFFIX.length()));
        NavigableMap<Integer, File> cycles = cycleFiles();
        if (!cycles.isEmpty()) { // appends must continue in the last cycle or a later one, never an earlier one
            clock.advanceTo(cycles.lastKey() * (long) blocksPerCycle);
        }
        Block last = lastBlock();
        if (last != null) {
            clock.advanceTo(last.number());
        }
    }

    /** Opens (or creates) the journal in {@code dir}, with {@value #DEFAULT_BLOCKS_PER_CYCLE} blocks per cycle file. */
    public static BlockJournal open(Path dir) {
        return open(dir, DEFAULT_BLOCKS_PER_CYCLE);
    }

    /**
     * Opens the journal in {@code dir}, creating it with {@code blocksPerCycleIfNew} blocks per cycle file if there
     * is none; an existing journal keeps the value it was created with.
     */
    public static BlockJournal open(Path dir, int blocksPerCycleIfNew) {
        if (blocksPerCycleIfNew < 1) {
            throw new IllegalArgumentException("blocks per cycle must be >= 1, got " + blocksPerCycleIfNew);
        }
        try {
            Files.createDirectories(dir);
            return new BlockJournal(dir, settledBlocksPerCycle(dir, blocksPerCycleIfNew));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open the block journal in " + dir, e);
        }
    }

    public Path directory() {
        return dir;
    }

    /**
     * Whether a file of a journal directory belongs in a copy of the journal (a backup): the cycle files and the
     * settings do; Chronicle's table store does not (it holds this process's locks and is rebuilt on open).
     */
    public static boolean belongsInCopy(Path file) {
        return !file.getFileName().toString().endsWith(SingleTableStore.SUFFIX);
    }

    /** Journals a block; call it before acting on the block. */
    public void appendBlock(BlockEvent event) {
        clock.advanceTo(event.number());
        append(event, JournalRecords::writeBlock);
    }

    /** Journals one evaluated submission of a window. */
    public void appendEvaluation(Evaluation evaluation) {
        append(evaluation, JournalRecords::writeEvaluation);
    }

    /** Journals that all evaluations of a window are journaled. */
    public void appendWindowEvaluated(WindowEvaluated end) {
        append(end, JournalRecords::writeWindowEvaluated);
    }

    /**
     * Replays the canonical chain from the first block numbered above {@code afterBlock} (the checkpoint's block;
     * -1 for all), in journal order, up to the last block numbered at most {@code toBlock} (Long.MAX_VALUE for all).
     */
    public JournalCursor replay(long afterBlock, long toBlock) {
        ExcerptTailer tailer = queue.createTailer();
        if (afterBlock >= 0) {
            // no block above afterBlock is in an earlier cycle: a block numbered b is journaled in cycle b/B or later
            Integer start = cycleFiles().ceilingKey(clock.cycleOf(afterBlock + 1));
            if (start == null) {
                tailer.toEnd();
            } else if (!tailer.moveToCycle(start)) {
                tailer.toStart(); // slower but still right: the cursor skips blocks up to afterBlock
            }
        }
        Retractions retracted;
        try (ExcerptTailer backward = queue.createTailer().direction(TailerDirection.BACKWARD).toEnd()) {
            retracted = Retractions.scan(backward, tailer.index());
        }
        return new JournalCursor(tailer, retracted, afterBlock, toBlock);
    }

    /** The last block journaled (the canonical chain's tip), e.g. to resume the feed after it; null when there is none. */
    public Block lastBlock() {
        List<Block> last = recentBlocks(1);
        return last.isEmpty() ? null : last.get(0);
    }

    /**
     * The last {@code count} blocks of the canonical chain journaled, oldest first: what a feed resumes after and
     * can roll back to. Blocks a rollback retracted are not among them.
     */
    public List<Block> recentBlocks(int count) {
        List<Block> blocks = new ArrayList<>();
        walkCanonicalBackward(block -> {
            blocks.add(block);
            return blocks.size() < count;
        });
        Collections.reverse(blocks);
        return blocks;
    }

    /** The canonical chain's block with this number, or null when the journal has none (never journaled, pruned). */
    public Block canonicalBlock(long number) {
        Block[] found = new Block[1];
        walkCanonicalBackward(block -> {
            if (block.number() == number) {
                found[0] = block;
            }
            return block.number() > number;
        });
        return found[0];
    }

    /**
     * Visits the canonical chain's blocks from the newest back, while {@code visitor} returns true: walking back,
     * the canonical chain's numbers strictly decrease, so a block numbered at or above one seen is retracted.
     */
    private void walkCanonicalBackward(Predicate<Block> visitor) {
        long lowest = Long.MAX_VALUE;
        try (ExcerptTailer tailer = queue.createTailer().direction(TailerDirection.BACKWARD).toEnd()) {
            for (Object record = JournalCursor.read(tailer, Retractions.NONE); record != JournalCursor.END;
                    record = JournalCursor.read(tailer, Retractions.NONE)) {
                if (record instanceof BlockEvent event && event.number() < lowest) {
                    lowest = event.number();
                    if (!visitor.test(event.block())) {
                        return;
                    }
                }
            }
        }
    }

    /** First and last block, gaps, counts: one pass over the whole journal. */
    public JournalInfo info() {
        long first = -1;
        long last = -1;
        long blocks = 0;
        long reorgs = 0;
        long evaluations = 0;
        List<JournalInfo.Gap> gaps = new ArrayList<>();
        try (ExcerptTailer tailer = queue.createTailer().toStart()) {
            for (Object record = JournalCursor.read(tailer, Retractions.NONE); record != JournalCursor.END;
                    record = JournalCursor.read(tailer, Retractions.NONE)) {
                if (record instanceof BlockEvent event) {
                    long number = event.number();
                    if (blocks > 0 && number > last + 1) {
                        gaps.add(new JournalInfo.Gap(last + 1, number - 1));
                    }
                    first = blocks == 0 ? number : first;
                    last = number;
                    blocks++;
                    reorgs += event.reorg() ? 1 : 0;
                } else if (record instanceof Evaluation) {
                    evaluations++;
                }
            }
        }
        return new JournalInfo(first, last, blocks, gaps, reorgs, evaluations, cycleFiles().size());
    }

    /**
     * Deletes the cycle files whose blocks are all below {@code keepFromBlock} (the oldest kept checkpoint's block),
     * never the newest cycle. Returns how many files it deleted.
     */
    public int removeCyclesBefore(long keepFromBlock) {
        NavigableMap<Integer, File> cycles = cycleFiles();
        int removed = 0;
        for (Map.Entry<Integer, File> cycle : cycles.headMap(cycles.isEmpty() ? 0 : cycles.lastKey()).entrySet()) {
            if (clock.lastBlockBound(cycle.getKey()) < keepFromBlock) {
                File file = cycle.getValue();
                if (file.delete()) {
                    removed++;
                    log.info("journal retention: deleted {} (blocks below {})", file, keepFromBlock);
                } else {
                    log.warn("journal retention: could not delete {}", file);
                }
            }
        }
        if (removed > 0) {
            queue.refreshDirectoryListing();
        }
        return removed;
    }

    @Override
    public void close() {
        if (appender != null) {
            appender.close();
        }
        queue.close();
    }

    private <T> void append(T record, BiConsumer<Bytes<?>, T> writer) {
        if (appender == null) { // created by the appending thread, which Chronicle then expects for every append
            appender = queue.createAppender();
        }
        DocumentContext context = appender.writingDocument();
        try {
            writer.accept(context.wire().bytes(), record);
        } catch (Throwable t) {
            context.rollbackOnClose(); // a half-written record must never become visible
            throw t;
        } finally {
            context.close();
        }
    }

    /** The cycle files on disk by cycle number. */
    private NavigableMap<Integer, File> cycleFiles() {
        NavigableMap<Integer, File> cycles = new TreeMap<>();
        File[] listed = dir.toFile().listFiles((parent, name) -> name.endsWith(SingleChronicleQueue.SUFFIX));
        for (File file : listed == null ? new File[0] : listed) {
            cycles.put(files.toLong(file).intValue(), file);
        }
        return cycles;
    }

    private static int settledBlocksPerCycle(Path dir, int blocksPerCycleIfNew) throws IOException {
        Path file = dir.resolve(SETTINGS_FILE);
        Properties settings = new Properties();
        if (Files.exists(file)) {
            try (Reader in = Files.newBufferedReader(file)) {
                settings.load(in);
            }
            return Integer.parseInt(settings.getProperty(BLOCKS_PER_CYCLE));
        }
        settings.setProperty(BLOCKS_PER_CYCLE, Integer.toString(blocksPerCycleIfNew));
        Path temp = dir.resolve(SETTINGS_FILE + ".tmp");
        try (Writer out = Files.newBufferedWriter(temp)) {
            settings.store(out, "block journal: each cycle file holds blocks [k*blocksPerCycle, (k+1)*blocksPerCycle)");
        }
        Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE);
        return blocksPerCycleIfNew;
    }
}
