package neuron.engine.api;

import neuron.engine.journal.Evaluation;
import neuron.engine.journal.WindowEvaluated;
import neuron.engine.network.Hash32;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A validator's blocks: live ones journaled before they are handed out, then after a restart replayed first. */
class NeuronBlocksTest {
    private static final Duration PATIENCE = Duration.ofSeconds(20);

    @TempDir
    Path dir;

    /** Every block up to the builder's end, none missed. */
    private static List<JournaledBlock> drain(NeuronBlocks blocks, Evaluation atBlock3) throws Exception {
        List<JournaledBlock> out = new ArrayList<>();
        long deadline = System.nanoTime() + PATIENCE.toNanos();
        while (!blocks.finished()) {
            assertTrue(System.nanoTime() < deadline, "no end within " + PATIENCE + " after " + out);
            JournaledBlock b = blocks.next(Duration.ofMillis(200));
            assertTrue(b == null || !b.rollsBack(), "the local chain does not reorganise");
            if (b != null) {
                out.add(b);
                if (!b.replayed() && b.number() == 3 && atBlock3 != null) {
                    blocks.journal().appendEvaluation(atBlock3);
                    blocks.journal().appendWindowEvaluated(new WindowEvaluated(atBlock3.window(), 1));
                }
            }
        }
        assertNull(blocks.next(Duration.ofMillis(1)), "nothing after the end");
        return out;
    }

    private static List<Long> numbers(List<JournaledBlock> blocks) {
        return blocks.stream().map(JournaledBlock::number).toList();
    }

    @Test
    void aRestartReplaysTheJournalThenFollowsTheChain() throws Exception {
        Path journal = dir.resolve("journal");
        Evaluation evaluation = new Evaluation(0, 7, Hash32.ZERO, true, 0.5);
        List<JournaledBlock> first;
        try (NeuronBlocks blocks = NeuronBlocks.journal(journal).blockTimeMs(20).until(6).open()) {
            blocks.replayAfter(-1);
            first = drain(blocks, evaluation);
        }
        long head = first.get(0).number();   // the chain's head when the feed started
        assertTrue(head <= 2, "started at " + head);
        assertEquals(java.util.stream.LongStream.rangeClosed(head, 6).boxed().toList(), numbers(first));
        assertTrue(first.stream().noneMatch(JournaledBlock::replayed));

        // Restored at block 2: blocks 3..6 come from the journal, with what was evaluated at 3; then 7..9 live.
        List<JournaledBlock> second;
        try (NeuronBlocks blocks = NeuronBlocks.journal(journal).blockTimeMs(20).until(9).open()) {
            assertTrue(blocks.onChain(4, first.get((int) (4 - head)).event().block().hash()));
            assertFalse(blocks.onChain(4, Hash32.ZERO), "a state at block 4 with another hash is on another branch");
            assertFalse(blocks.onChain(7, Hash32.ZERO), "a state past the journal's tip is not on its chain");
            blocks.replayAfter(2);
            second = drain(blocks, null);
        }
        assertEquals(List.of(3L, 4L, 5L, 6L, 7L, 8L, 9L), numbers(second));
        for (JournaledBlock b : second) {
            assertEquals(b.number() <= 6, b.replayed(), "block " + b.number());
        }
        assertEquals(List.of(evaluation), second.get(0).evaluations());
        assertEquals(List.of(new WindowEvaluated(0, 1)), second.get(0).windowsEvaluated());
        assertEquals(first.get((int) (4 - head)).event(), second.get(1).event(), "a replayed block is the one journaled");

        // A state restored past the end has nothing left to take.
        try (NeuronBlocks blocks = NeuronBlocks.journal(journal).until(9).open()) {
            assertThrows(IllegalStateException.class, () -> blocks.next(Duration.ofMillis(1)), "not positioned yet");
            blocks.replayAfter(9);
            assertTrue(blocks.finished());
            assertNull(blocks.next(Duration.ofMillis(1)));
        }
        try (NeuronBlocks blocks = NeuronBlocks.journal(journal).blockTimeMs(20).open()) {
            blocks.replayAfter(9);
            assertFalse(blocks.finished(), "no end given");
        }
    }
}
