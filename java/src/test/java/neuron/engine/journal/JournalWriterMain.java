package neuron.engine.journal;

import java.nio.file.Path;
import neuron.engine.chain.Block;
import neuron.engine.chain.BlockEvent;
import neuron.engine.network.Hash32;

/** Child JVM of {@link JournalCrashTest}: continues the journal in args[0] as fast as it can until it is killed. */
public final class JournalWriterMain {
    private JournalWriterMain() {
    }

    /** A linked chain of blocks made up for the journal, cheaper than real headers at this rate. */
    private static Block block(long n) {
        return new Block(n, hash(n), n == 0 ? Hash32.ZERO : hash(n - 1));
    }

    private static Hash32 hash(long n) {
        return Hash32.sha256(Long.toString(n).getBytes());
    }

    public static void main(String[] args) {
        try (BlockJournal journal = BlockJournal.open(Path.of(args[0]), 5_000)) {
            Block last = journal.lastBlock();
            for (long n = last == null ? 0 : last.number() + 1; ; n++) {
                journal.appendBlock(new BlockEvent(block(n), false));
                if (n % 3 == 2) {
                    journal.appendEvaluation(new Evaluation(n / 3, 7, Hash32.ZERO, true, n));
                }
                if (n % 10_000 == 0) {
                    System.out.println("journaled " + n);
                    System.out.flush();
                }
            }
        }
    }
}
