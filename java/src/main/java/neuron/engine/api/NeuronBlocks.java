package neuron.engine.api;

import neuron.engine.chain.Block;
import neuron.engine.chain.BlockEvent;
import neuron.engine.chain.ChainFollower;
import neuron.engine.chain.Follow;
import neuron.engine.chain.local.BlockFeeds;
import neuron.engine.checkpoint.CheckpointFiles;
import neuron.engine.journal.BlockJournal;
import neuron.engine.journal.JournalCursor;
import neuron.engine.network.Hash32;
import neuron.engine.network.WindowChain;
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
 * the state of one that never crashed. When the chain replaces blocks already handed out (a reorganisation, when
 * best heads are followed), the journal retracts them and {@link #next} says so: the state is rebuilt from a
 * checkpoint the chain still has, and the blocks replayed after it.
 *
 * <pre>{@code
 * try (NeuronBlocks blocks = NeuronBlocks.journal(journalDir).chain("ws://127.0.0.1:9944").keepFrom(checkpoints)
 *         .open()) {
 *     blocks.replayAfter(restoredBlock);                        // -1 for a fresh validator
 *     while (!stop.get()) {
 *         JournaledBlock block = blocks.next(Duration.ofMillis(200));
 *         if (block == null) {
 *             continue;                                         // no block yet
 *         }
 *         if (block.rollsBack()) {
 *             rebuild();                                        // restore a checkpoint on the chain, replayAfter it
 *             continue;
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
    private final Follow follow;
    private final long blockTimeMs;
    private final long until;
    private final NeuronCheckpoints retention;
    private final long freshFrom;
    private boolean positioned;
    private boolean rolledBack;
    private long afterBlock;
    private JournalCursor replay;
    private long replayed;
    private BlockFeeds.Connection connection;
    private long last;

    private NeuronBlocks(BlockJournal journal, Builder b) {
        this.journal = journal;
        this.chain = b.chain;
        this.follow = b.follow;
        this.blockTimeMs = b.blockTimeMs;
        this.until = b.until;
        this.retention = b.retention;
        this.freshFrom = b.freshFrom;
    }

    /** The blocks journaled in {@code dir} (created if missing), then the chain's. */
    public static Builder journal(Path dir) {
        return new Builder(dir);
    }

    /** The options of {@link NeuronBlocks}, with the command line's defaults. */
    public static final class Builder {
        private final Path dir;
        private String chain = BlockFeeds.LOCAL;
        private Follow follow = Follow.FINALIZED;
        private long blockTimeMs = 12_000;
        private long until;
        private NeuronCheckpoints retention;
        private long freshFrom = -1;

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

        /**
         * Which heads a remote chain is followed by ({@code --follow}): finalized ones (the default; a block once
         * handed out stays), or best ones (sooner, but a reorganisation may replace blocks handed out).
         */
        public Builder follow(Follow follow) {
            this.follow = Objects.requireNonNull(follow, "follow");
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
         * Where a fresh state ({@code replayAfter(-1)} on an empty journal) starts on the chain: block
         * {@code first} (0: the network's first block, catching up through the chain's history by number), or the
         * head (-1, the default).
         */
        public Builder freshFrom(long first) {
            if (first < -1) {
                throw new IllegalArgumentException("a fresh start is at a block or at the head (-1), got " + first);
            }
            this.freshFrom = first;
            return this;
        }

        /**
         * Opens (or creates) the journal; {@link #replayAfter} then says where the blocks start.
         *
         * @throws neuron.engine.checkpoint.UnusablePathException if the journal directory cannot be written
         * @throws IllegalStateException naming the missing JVM flags
         */
        public NeuronBlocks open() throws IOException {
            JvmFlags.check();
            CheckpointFiles.checkWritableDirectory(dir, "journal directory");
            return new NeuronBlocks(BlockJournal.open(dir), this);
        }
    }

    /**
     * Where the blocks start: the journaled blocks after {@code block} (the restored state's block, or -1 for a
     * fresh state), then the chain's. Called once after {@link Builder#open()}, and again after a rollback.
     */
    public void replayAfter(long block) {
        closeReplayAndFeed();
        positioned = true;
        rolledBack = false;
        afterBlock = block;
        last = block;
        replayed = 0;
        replay = journal.replay(block, until > 0 ? until : Long.MAX_VALUE);
    }

    /**
     * Whether a state at {@code block} with {@code hash} is on the journal's canonical chain (or the journal cannot
     * tell): a checkpoint at a block a reorganisation replaced is not, and is to be passed over.
     */
    public boolean onChain(long block, Hash32 hash) {
        Block tip = journal.lastBlock();
        Block canonical = journal.canonicalBlock(block);
        return tip == null || (block <= tip.number() && (canonical == null || canonical.hash().equals(hash)));
    }

    /**
     * The next block, waiting at most {@code timeout} for the chain; null when none came in time, or once
     * {@link #finished()}. Replayed blocks come without waiting.
     *
     * @throws IllegalArgumentException when the chain spec is not one the builder accepts
     * @throws IllegalStateException before {@link #replayAfter}, or after a block that rolls back and before the
     *     {@code replayAfter} of the rebuilt state
     */
    public JournaledBlock next(Duration timeout) throws InterruptedException {
        if (!positioned || rolledBack) {
            throw new IllegalStateException(rolledBack ? "the chain rolled back: rebuild the state and call "
                    + "replayAfter(its block) first" : "call replayAfter(the restored state's block) first");
        }
        if (finished()) {
            return null;
        }
        if (replay != null) {
            if (replay.next()) {
                BlockEvent event = replay.block();
                last = event.number();
                replayed++;
                return new JournaledBlock(event, true, false, replay.evaluations(), replay.windowsEvaluated());
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
        keepJournalShort();
        BlockEvent event = connection().feed().next(timeout);
        if (event == null) {
            return null;
        }
        journal.appendBlock(event);
        rolledBack = event.number() <= last;
        last = event.number();
        return new JournaledBlock(event, false, rolledBack, List.of(), List.of());
    }

    /** Whether the block given to {@link Builder#until} was handed out (or the restored state is past it). */
    public boolean finished() {
        return until > 0 && last >= until;
    }

    /**
     * The window protocol's calls (commit, set weights, read them) on the chain the blocks come from, connected on
     * first use; a rollback's {@link #replayAfter} reconnects, so ask again after one.
     *
     * @throws IllegalArgumentException when the chain spec is not one the builder accepts
     */
    public WindowChain window() {
        return connection().window();
    }

    /** The journal, for the evaluations of live blocks: append them before acting on them. */
    public BlockJournal journal() {
        return journal;
    }

    @Override
    public void close() {
        closeReplayAndFeed();
        journal.close();
    }

    private void closeReplayAndFeed() {
        if (replay != null) {
            replay.close();
            replay = null;
        }
        if (connection != null) {
            connection.close();
            connection = null;
        }
    }

    private BlockFeeds.Connection connection() {
        if (connection == null) {
            connection = BlockFeeds.connect(chain, blockTimeMs, follow, resumePoint(), freshFrom);
        }
        return connection;
    }

    /**
     * Where the chain resumes: after the journal's canonical chain (whose recent blocks it can roll back to), else
     * after the restored block, else where a fresh state starts ({@link Builder#freshFrom}).
     */
    private List<Block> resumePoint() {
        List<Block> recent = journal.recentBlocks(ChainFollower.HISTORY);
        if (!recent.isEmpty()) {
            return recent;
        }
        return afterBlock < 0 ? List.of() : List.of(new Block(afterBlock, Hash32.ZERO, Hash32.ZERO));
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
