package neuron.engine.chain;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import neuron.engine.chain.local.LocalChain;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;

/** Test helpers: bounded waits on feeds and conditions (never a wall-clock assertion). */
public final class Feeds {
    public static final Duration PATIENCE = Duration.ofSeconds(20);

    private Feeds() {
    }

    public static List<BlockEvent> take(BlockFeed feed, int count) throws InterruptedException {
        List<BlockEvent> events = new ArrayList<>();
        while (events.size() < count) {
            BlockEvent event = feed.next(PATIENCE);
            assertNotNull(event, "no block within " + PATIENCE + " after " + events.size() + " of " + count);
            events.add(event);
        }
        return events;
    }

    /** Replaces the chain from {@code from} on, unless that block is final by now (then it says false). */
    public static boolean reorganised(LocalChain chain, long from) {
        try {
            chain.reorganise(from);
            return true;
        } catch (IllegalArgumentException finalAlready) {
            return false;
        }
    }

    /** Numbers strictly consecutive from {@code first}. */
    public static void assertConsecutive(long first, List<BlockEvent> events) {
        for (int i = 0; i < events.size(); i++) {
            assertEquals(first + i, events.get(i).number(), "block " + i + " of " + events);
        }
    }

    public static void await(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + PATIENCE.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.sleep(5);
        }
    }
}
