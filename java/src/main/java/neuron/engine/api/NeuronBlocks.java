package neuron.engine.api;

import neuron.engine.chain.Block;
import neuron.engine.chain.BlockEvent;
import neuron.engine.chain.BlockFeed;
import neuron.engine.chain.BlockFeeds;
import neuron.engine.chain.BlockJournal;
import neuron.engine.chain.Hash32;
import neuron.engine.chain.JournalCursor;
import neuron.engine.checkpoint.CheckpointFiles;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * A validator's blocks, crash-proof: first every journaled block after the restored state's block (a replay,
 * with the evaluations journaled after each), then the chain's blocks, each appended to the journal before it is
 * handed out. A validator that restores its checkpoint and takes its blocks from here reaches, at every block,
 * the state of one that never crashed.
 *
 * <pre>{@code
 * try (NeuronBlocks blocks = NeuronBlocks.journal(journalDir).chain("ws://127.0.0.1:9944").keepFrom(checkpoints)
 *         .open(restoredBlock)) {                               // -1 for a fresh validator
 *     while (!stop.get()) {
 *         JournaledBlock block = blocks.next(Duration.ofMillis(200));
 *         if (block == null) {
 *             continue;                                         // no block yet
 *         }
 *         checkpoints.awaitStaging();                          // before the block changes the state
 *         evaluate(block);                                     // replayed: its journaled evaluations;
 *                                                              // live: journal what it evaluates
 *         checkpoints.afterStep(block.number(), state);
 *     }
 * }
 * }</pre>
 *
 * <p>One thread (the validator's loop) calls every method.
 */
public final class NeuronBlocks implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(NeuronBlocks.class);

    private final BlockJournal journal;
    private final String chain;
    private final long blockTimeMs;
    private final long until;
    private final NeuronCheckpoints retention;
    private final long afterBlock;
    private JournalCursor replay;
    private long replayed;
    private BlockFeed feed;
    private long last;

    private NeuronBlocks(BlockJournal journal, Builder b, long afterBlock) {
        this.journal = journal;
        this.chain = b.chain;
        this.blockTimeMs = b.blockTimeMs;
        this.until = b.until;
        this.retention = b.retention;
        this.afterBlock = afterBlock;
        this.last = afterBlock;
        this.replay = journal.replay(afterBlock, until > 0 ? until : Long.MAX_VALUE);
    }

    /** The blocks journaled in {@code dir} (created if missing), then the chain's. */
    public static Builder journal(Path dir) {
        return new Builder(dir);
    }

    /** The options of {@link NeuronBlocks}, with the command line's defaults. */
    public static final class Builder {
        private final Path dir;
        private String chain = BlockFeeds.LOCAL;
        private long blockTimeMs = 12_000;
        private long until;
        private NeuronCheckpoints retention;

        private Builder(Path dir) {
            this.dir = Objects.requireNonNull(dir, "journal directory");
        }

        /**
         * The chain ({@code --chain}): {@code local} (a chain inside this process) or {@code ws://HOST:PORT}, a
         * Substrate JSON-RPC endpoint.
         */
        public Builder chain(String spec) {
            this.chain = Objects.requireNonNull(spec, "chain");
            return this;
        }

        /** The block time of a {@code local} chain ({@code --block_time_ms}); a remote chain has its own. */
        public Builder blockTimeMs(long millis) {
            if (millis <= 0) {
                throw new IllegalArgumentException("--block_time_ms must be positive, got " + millis);
            }
            this.blockTimeMs = millis;
            return this;
        }

        /** The last block to hand out ({@code --until_block}); 0, the default, for no end. */
        public Builder until(long block) {
            if (block < 0) {
                throw new IllegalArgumentException("--until_block must be 0 (run until stopped) or a block, got "
                        + block);
            }
            this.until = block;
            return this;
        }

        /**
         * Keeps the journal only as far back as the oldest of {@code checkpoints} kept: after each checkpoint is
         * persisted, cycle files holding only older blocks are deleted (between live blocks, never in a replay).
         */
        public Builder keepFrom(NeuronCheckpoints checkpoints) {
            this.retention = checkpoints;
            return this;
        }

        /**
         * Opens the journal for blocks after {@code afterBlock}: the restored state's block, or -1 for a fresh
         * state. The chain is reached when the replay is over.
         *
         * @throws neuron.engine.checkpoint.UnusablePathException if the journal directory cannot be written
         * @throws IllegalStateException naming the missing JVM flags
         */
        public NeuronBlocks open(long afterBlock) throws IOException {
            JvmFlags.check();
            CheckpointFiles.checkWritableDirectory(dir, "journal directory");
            return new NeuronBlocks(BlockJournal.open(dir), this, afterBlock);
        }
    }

    /**
     * The next block, waiting at most {@code timeout} for the chain; null when none came in time, or once
     * {@link #finished()}. Replayed blocks come without waiting.
     *
     * @throws IllegalArgumentException when the chain spec is not one the builder accepts
     */
    public JournaledBlock next(Duration timeout) throws InterruptedException {
        if (finished()) {
            return null;
        }
        if (replay != null) {
            if (replay.next()) {
                BlockEvent event = replay.block();
                last = event.number();
                replayed++;
                return new JournaledBlock(event, true, replay.evaluations(), replay.windowsEvaluated());
            }
            replay.close();
            replay = null;
            if (replayed > 0) {
                LOG.info("replayed {} journaled blocks, up to block {}", replayed, last);
            }
            if (finished()) {
                return null;
            }
        }
        if (feed == null) {
            feed = BlockFeeds.open(chain, blockTimeMs, resumePoint());
        }
        keepJournalShort();
        BlockEvent event = feed.next(timeout);
        if (event == null) {
            return null;
        }
        journal.appendBlock(event);
        last = event.number();
        return new JournaledBlock(event, false, List.of(), List.of());
    }

    /** Whether the block given to {@link Builder#until} was handed out (or the restored state is past it). */
    public boolean finished() {
        return until > 0 && last >= until;
    }

    /** The journal, for the evaluations of live blocks: append them before acting on them. */
    public BlockJournal journal() {
        return journal;
    }

    @Override
    public void close() {
        if (replay != null) {
            replay.close();
        }
        if (feed != null) {
            feed.close();
        }
        journal.close();
    }

    /** Where the chain resumes: after the journal's last block, else after the restored block, else its head. */
    private Block resumePoint() {
        Block journaled = journal.lastBlock();
        if (journaled != null) {
            return journaled;
        }
        return afterBlock < 0 ? null : new Block(afterBlock, Hash32.ZERO, Hash32.ZERO);
    }

    private void keepJournalShort() {
        if (retention == null || !retention.persistedSinceAsked()) {
            return;
        }
        retention.oldestKept().ifPresent(oldest -> {
            long block = retention.progressOf(oldest);
            int removed = journal.removeCyclesBefore(block);
            if (removed > 0) {
                LOG.info("journal: removed {} cycle files older than block {} (the oldest checkpoint kept)", removed,
                        block);
            }
        });
    }
}
