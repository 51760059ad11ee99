package neuron.engine.journal;

import java.util.Arrays;
import net.openhft.chronicle.queue.ExcerptTailer;
import net.openhft.chronicle.wire.DocumentContext;
import neuron.engine.chain.BlockEvent;

/**
 * The journal records that a later rollback retracted: a block record numbered k retracts every block journaled
 * before it with a number of k or more, together with the records journaled after each of those (their
 * evaluations). Found in one backward pass: walking back from the end, the canonical chain's numbers strictly
 * decrease, so a block whose number is not below every number seen after it is retracted.
 */
final class Retractions {
    static final Retractions NONE = new Retractions(new long[0]);

    /** Sorted, disjoint half-open index ranges [from, to), as from0, to0, from1, to1, … */
    private final long[] ranges;

    private Retractions(long[] ranges) {
        this.ranges = ranges;
    }

    /** Scans {@code backward} (a tailer positioned at the end, moving backward) down to index {@code fromIndex}. */
    static Retractions scan(ExcerptTailer backward, long fromIndex) {
        long[] found = new long[16];
        int count = 0;
        long lowest = Long.MAX_VALUE;
        long nextBlockIndex = Long.MAX_VALUE;
        while (true) {
            try (DocumentContext context = backward.readingDocument()) {
                if (!context.isPresent() || context.index() < fromIndex) {
                    break;
                }
                if (!(JournalRecords.read(context.wire().bytes()) instanceof BlockEvent block)) {
                    continue;
                }
                long number = block.number();
                if (number < lowest) {
                    lowest = number;
                } else {
                    if (count + 2 > found.length) {
                        found = Arrays.copyOf(found, found.length * 2);
                    }
                    found[count++] = nextBlockIndex;   // collected backward: reversed below
                    found[count++] = context.index();
                }
                nextBlockIndex = context.index();
            }
        }
        long[] ranges = new long[count];
        for (int i = 0; i < count; i += 2) { // reverse into ascending [from, to) pairs
            ranges[count - 2 - i] = found[i + 1];
            ranges[count - 1 - i] = found[i];
        }
        return count == 0 ? NONE : new Retractions(ranges);
    }

    boolean contains(long index) {
        int low = 0;
        int high = ranges.length / 2 - 1;
        while (low <= high) {
            int mid = (low + high) >>> 1;
            if (index < ranges[2 * mid]) {
                high = mid - 1;
            } else if (index >= ranges[2 * mid + 1]) {
                low = mid + 1;
            } else {
                return true;
            }
        }
        return false;
    }
}
