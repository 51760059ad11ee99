package neuron.engine.journal;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import net.openhft.chronicle.queue.ExcerptTailer;
import net.openhft.chronicle.wire.DocumentContext;
import neuron.engine.chain.BlockEvent;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Walks a {@link BlockJournal} block by block for a replay, each block with the evaluation records journaled after
 * it (before the next block), over the canonical chain only: blocks a later rollback retracted, and what was
 * journaled after them, are skipped. One thread; the lists are valid until the next {@link #next()}.
 */
public final class JournalCursor implements AutoCloseable {
    /** What {@link #read} returns at the end of the journal. */
    static final Object END = new Object();
    private static final Logger log = LoggerFactory.getLogger(JournalCursor.class);

    private final ExcerptTailer tailer;
    private final Retractions retracted;
    private final long afterBlock;
    private final long toBlock;
    private final List<Evaluation> evaluations = new ArrayList<>();
    private final List<WindowEvaluated> windowsEvaluated = new ArrayList<>();
    private final List<Evaluation> evaluationsView = Collections.unmodifiableList(evaluations);
    private final List<WindowEvaluated> windowsEvaluatedView = Collections.unmodifiableList(windowsEvaluated);
    private boolean started;
    private BlockEvent current;
    private BlockEvent ahead;

    JournalCursor(ExcerptTailer tailer, Retractions retracted, long afterBlock, long toBlock) {
        this.tailer = tailer;
        this.retracted = retracted;
        this.afterBlock = afterBlock;
        this.toBlock = toBlock;
    }

    /** Moves to the next block; false at the end of the journal or past {@code toBlock}. */
    public boolean next() {
        if (!started) {
            started = true;
            ahead = firstBlockAfter();
        }
        evaluations.clear();
        windowsEvaluated.clear();
        current = ahead != null && ahead.number() <= toBlock ? ahead : null;
        ahead = null;
        if (current == null) {
            return false;
        }
        for (Object record = read(tailer, retracted); record != END; record = read(tailer, retracted)) {
            if (record instanceof BlockEvent event) {
                ahead = event;
                break;
            } else if (record instanceof Evaluation evaluation) {
                evaluations.add(evaluation);
            } else if (record instanceof WindowEvaluated end) {
                windowsEvaluated.add(end);
            }
        }
        return true;
    }

    public BlockEvent block() {
        if (current == null) {
            throw new IllegalStateException("no current block: call next() first and check that it returned true");
        }
        return current;
    }

    /** The evaluations journaled after this block, in journal order. */
    public List<Evaluation> evaluations() {
        return evaluationsView;
    }

    /** The windows whose evaluation lists were completed after this block. */
    public List<WindowEvaluated> windowsEvaluated() {
        return windowsEvaluatedView;
    }

    @Override
    public void close() {
        tailer.close();
    }

    private BlockEvent firstBlockAfter() {
        for (Object record = read(tailer, retracted); record != END; record = read(tailer, retracted)) {
            if (record instanceof BlockEvent event && event.number() > afterBlock) {
                return event;
            }
        }
        return null;
    }

    /**
     * The next record in the tailer's direction that is not {@code retracted}, {@link #END} when there is none;
     * unknown types are skipped.
     */
    static Object read(ExcerptTailer tailer, Retractions retracted) {
        while (true) {
            try (DocumentContext context = tailer.readingDocument()) {
                if (!context.isPresent()) {
                    return END;
                }
                if (retracted.contains(context.index())) {
                    continue;
                }
                Object record = JournalRecords.read(context.wire().bytes());
                if (record != null) {
                    return record;
                }
                log.warn("skipping a journal record of unknown type at index {}", Long.toHexString(context.index()));
            }
        }
    }
}
