package neuron.engine.staging;

import net.openhft.chronicle.core.time.TimeProvider;
import net.openhft.chronicle.queue.RollCycle;

/**
 * The staging queue's clock: it ticks once per snapshot, not with wall time, so each snapshot lands in a cycle
 * file of its own. Deleting that file once the snapshot is persisted is then how staging gives memory back.
 */
final class SnapshotClock implements TimeProvider {
    private final long cycleMillis;
    private volatile long cycle;

    SnapshotClock(RollCycle rollCycle) {
        this.cycleMillis = rollCycle.lengthInMillis();
    }

    void cycle(long cycle) {
        this.cycle = cycle;
    }

    long cycle() {
        return cycle;
    }

    @Override
    public long currentTimeMillis() {
        return cycle * cycleMillis + 1;
    }
}
