package neuron.engine.journal;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import neuron.engine.chain.Block;
import neuron.engine.chain.BlockEvent;
import neuron.engine.network.Hash32;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The block journal's speed targets: append p99 under 5 µs (appendBlock, sample mode: see its p0.99), and
 * replay of at least 1,000,000 journaled blocks per second when there is nothing to evaluate (replayBlocks: ops/s
 * are blocks/s). Run with the engine's JVM flags: {@code java @java/target/jvm.options -jar bench/target/benchmarks.jar JournalBench}.
 */
@State(Scope.Benchmark)
@Fork(1)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class JournalBench {
    private static final int REPLAYED_BLOCKS = 1_000_000;
    /**
     * A cycle file per 10M blocks: the default 10,000 rolls every ~33 h at 12 s a block, but every few ms in this
     * loop, and a roll (a new file) is not what a steady-state percentile is about.
     */
    private static final int BLOCKS_PER_CYCLE = 10_000_000;
    private static final Hash32 HASH = Hash32.sha256("bench".getBytes());

    private Path dir;
    private BlockJournal journal;
    private long next;

    @Setup(Level.Trial)
    public void open() throws IOException {
        dir = Files.createTempDirectory("journal-bench");
        journal = BlockJournal.open(dir, BLOCKS_PER_CYCLE);
        for (; next < REPLAYED_BLOCKS; next++) {
            journal.appendBlock(new BlockEvent(new Block(next, HASH, HASH), false));
        }
    }

    @TearDown(Level.Trial)
    public void close() throws IOException {
        journal.close();
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        }
    }

    @Benchmark
    @BenchmarkMode(Mode.SampleTime)
    @OutputTimeUnit(TimeUnit.NANOSECONDS)
    public void appendBlock() {
        journal.appendBlock(new BlockEvent(new Block(next++, HASH, HASH), false));
    }

    @Benchmark
    @BenchmarkMode(Mode.Throughput)
    @OutputTimeUnit(TimeUnit.SECONDS)
    @OperationsPerInvocation(REPLAYED_BLOCKS)
    public long replayBlocks() {
        long blocks = 0;
        try (JournalCursor cursor = journal.replay(-1, REPLAYED_BLOCKS - 1)) {
            while (cursor.next()) {
                blocks++;
            }
        }
        return blocks;
    }
}
