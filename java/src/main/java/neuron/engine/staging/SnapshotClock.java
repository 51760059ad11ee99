package neuron.engine.staging;

import net.openhft.chronicle.core.time.TimeProvider;

/**
 * The staging queue's clock: it ticks once per snapshot, not with wall time, so each snapshot lands in a cycle
 * file of its own. Deleting that file once the snapshot is persisted is then how staging gives memory back.
 */
final class SnapshotClock implements TimeProvider {
    static final long CYCLE_MILLIS = 5 * 60 * 1000L;   // RollCycles.FIVE_MINUTELY

    private volatile long cycle;

    void cycle(long cycle) {
        this.cycle = cycle;
    }

    long cycle() {
        return cycle;
    }

    @Override
    public long currentTimeMillis() {
        return cycle * CYCLE_MILLIS + 1;
    }
}
