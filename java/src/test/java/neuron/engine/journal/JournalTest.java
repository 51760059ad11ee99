package neuron.engine.journal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import net.openhft.chronicle.bytes.Bytes;
import neuron.engine.chain.Block;
import neuron.engine.chain.BlockEvent;
import neuron.engine.chain.local.LocalChain;
import neuron.engine.network.Hash32;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JournalTest {
    /** A chain whose blocks stay unfinal for the test's length (a minute a block), so that they can be replaced. */
    private static final LocalChain CHAIN = new LocalChain("journal-test", 60_000, 0);

    @TempDir
    Path dir;

    static BlockEvent block(long number) {
        return new BlockEvent(CHAIN.block(number), false);
    }

    static Evaluation evaluation(long window, int uid) {
        return new Evaluation(window, uid, Hash32.sha256(("sub" + window + "/" + uid).getBytes()), uid % 2 == 0, uid * 0.5);
    }

    private static List<Long> replayedNumbers(BlockJournal journal, long after, long to) {
        List<Long> numbers = new ArrayList<>();
        try (JournalCursor cursor = journal.replay(after, to)) {
            while (cursor.next()) {
                numbers.add(cursor.block().number());
            }
        }
        return numbers;
    }

    private static List<Long> range(long from, long to) {
        return Stream.iterate(from, n -> n <= to, n -> n + 1).toList();
    }

    @Test
    void replaysBlocksWithTheEvaluationsJournaledAfterThem() {
        try (BlockJournal journal = BlockJournal.open(dir, 10)) {
            for (long n = 0; n < 30; n++) {
                journal.appendBlock(block(n));
                if (n % 3 == 2) { // window n/3 ends: evaluate it
                    journal.appendEvaluation(evaluation(n / 3, 1));
                    journal.appendEvaluation(evaluation(n / 3, 2));
                    journal.appendWindowEvaluated(new WindowEvaluated(n / 3, 2));
                }
            }
            try (JournalCursor cursor = journal.replay(13, Long.MAX_VALUE)) {
                assertTrue(cursor.next());
                assertEquals(block(14), cursor.block());
                assertEquals(List.of(evaluation(4, 1), evaluation(4, 2)), cursor.evaluations());
                assertEquals(List.of(new WindowEvaluated(4, 2)), cursor.windowsEvaluated());
                assertTrue(cursor.next());
                assertEquals(block(15), cursor.block());
                assertEquals(List.of(), cursor.evaluations());
            }
            assertEquals(range(0, 29), replayedNumbers(journal, -1, Long.MAX_VALUE));
            assertEquals(range(21, 25), replayedNumbers(journal, 20, 25));
            assertEquals(List.of(), replayedNumbers(journal, 29, Long.MAX_VALUE));
        }
    }

    @Test
    void aRollbackRetractsTheReplacedBlocksAndWhatWasJournaledAfterThem() {
        LocalChain forked = new LocalChain("journal-test", 60_000, 0);
        try (BlockJournal journal = BlockJournal.open(dir, 4)) {
            for (long n = 0; n <= 9; n++) {
                journal.appendBlock(block(n));
                journal.appendEvaluation(evaluation(n, 1));
            }
            // blocks 7..9 are replaced: the new branch's 7 comes flagged, then 8', and a second rollback to 5
            forked.reorganise(7);
            journal.appendBlock(new BlockEvent(forked.block(7), true));
            journal.appendEvaluation(evaluation(7, 2));
            journal.appendBlock(new BlockEvent(forked.block(8), false));
            forked.reorganise(6);
            journal.appendBlock(new BlockEvent(forked.block(6), true));
            journal.appendEvaluation(evaluation(6, 3));
            journal.appendBlock(new BlockEvent(forked.block(7), false));

            List<BlockEvent> replayed = new ArrayList<>();
            List<Evaluation> evaluations = new ArrayList<>();
            try (JournalCursor cursor = journal.replay(3, Long.MAX_VALUE)) {
                while (cursor.next()) {
                    replayed.add(cursor.block());
                    evaluations.addAll(cursor.evaluations());
                }
            }
            assertEquals(List.of(block(4), block(5), new BlockEvent(forked.block(6), true),
                    new BlockEvent(forked.block(7), false)), replayed, "only the canonical chain");
            assertEquals(List.of(evaluation(4, 1), evaluation(5, 1), evaluation(6, 3)), evaluations);
            assertEquals(List.of(block(4).block(), block(5).block(), forked.block(6), forked.block(7)),
                    journal.recentBlocks(4));
            assertEquals(forked.block(7), journal.lastBlock());
            assertEquals(range(0, 7), replayedNumbers(journal, -1, Long.MAX_VALUE));
        }
    }

    @Test
    void infoListsFirstLastGapsAndReorgs() {
        try (BlockJournal journal = BlockJournal.open(dir, 10)) {
            assertTrue(journal.info().isEmpty());
            assertNull(journal.lastBlock());
            for (long n : new long[] {5, 6, 7, 10, 11, 15}) {
                journal.appendBlock(block(n));
            }
            journal.appendBlock(new BlockEvent(CHAIN.block(16), true));
            journal.appendEvaluation(evaluation(5, 3));
            JournalInfo info = journal.info();
            assertEquals(5, info.firstBlock());
            assertEquals(16, info.lastBlock());
            assertEquals(7, info.blocks());
            assertEquals(List.of(new JournalInfo.Gap(8, 9), new JournalInfo.Gap(12, 14)), info.gaps());
            assertEquals(1, info.reorgs());
            assertEquals(1, info.evaluations());
            assertEquals(2, info.cycles());
            assertEquals(CHAIN.block(16), journal.lastBlock());
        }
    }

    @Test
    void reopeningContinuesTheJournalAndKeepsItsCycleSize() {
        try (BlockJournal journal = BlockJournal.open(dir, 10)) {
            for (long n = 0; n < 25; n++) {
                journal.appendBlock(block(n));
            }
        }
        try (BlockJournal journal = BlockJournal.open(dir, 1_000)) { // the journal's own 10 wins
            assertEquals(CHAIN.block(24), journal.lastBlock());
            for (long n = 25; n < 45; n++) {
                journal.appendBlock(block(n));
            }
            JournalInfo info = journal.info();
            assertEquals(45, info.blocks());
            assertEquals(List.of(), info.gaps());
            assertEquals(5, info.cycles());
        }
    }

    @Test
    void retentionDeletesWholeCyclesBelowTheKeptBlockOnly() throws IOException {
        try (BlockJournal journal = BlockJournal.open(dir, 10)) {
            for (long n = 0; n < 56; n++) {
                journal.appendBlock(block(n));
            }
            long filesBefore = cycleFiles();
            assertEquals(6, filesBefore);
            assertEquals(3, journal.removeCyclesBefore(32)); // blocks 0..29 go, 30..39 stay with 32
            assertEquals(filesBefore - 3, cycleFiles());
            JournalInfo info = journal.info();
            assertEquals(30, info.firstBlock());
            assertEquals(55, info.lastBlock());
            assertEquals(range(33, 55), replayedNumbers(journal, 32, Long.MAX_VALUE));
            assertEquals(range(30, 55), replayedNumbers(journal, 2, Long.MAX_VALUE));
            assertEquals(0, journal.removeCyclesBefore(32));
            assertEquals(2, journal.removeCyclesBefore(Long.MAX_VALUE)); // never the newest cycle
            journal.appendBlock(block(56));
            assertEquals(range(50, 56), replayedNumbers(journal, -1, Long.MAX_VALUE));
        }
    }

    @Test
    void aReorgFlagAndLowerNumbersSurviveTheRoundTrip() {
        try (BlockJournal journal = BlockJournal.open(dir, 10)) {
            journal.appendBlock(block(18));
            journal.appendBlock(block(20));
            journal.appendBlock(new BlockEvent(CHAIN.block(19), true)); // a reorg to a shorter branch
            try (JournalCursor cursor = journal.replay(-1, Long.MAX_VALUE)) {
                assertTrue(cursor.next());
                assertFalse(cursor.block().reorg());
                assertTrue(cursor.next(), "20 is retracted by the 19 after it");
                assertEquals(new BlockEvent(CHAIN.block(19), true), cursor.block());
                assertFalse(cursor.next());
            }
        }
    }

    private long cycleFiles() throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(f -> f.toString().endsWith(".cq4")).count();
        }
    }

    @Test
    void aBlockRecordJournaledBeforeBlocksCarriedCommitmentsReadsAsABlockWithNone() {
        Hash32 hash = Hash32.sha256("12".getBytes());
        Hash32 parent = Hash32.sha256("11".getBytes());
        Bytes<?> old = Bytes.allocateElasticDirect();
        old.writeByte(JournalRecords.BLOCK).writeLong(12).write(hash.toBytes()).write(parent.toBytes()).writeByte((byte) 0);
        BlockEvent read = (BlockEvent) JournalRecords.read(old);
        assertEquals(new Block(12, hash, parent), read.block());
        old.releaseLast();
    }
}
