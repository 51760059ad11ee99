package neuron.engine.dist;

import neuron.engine.checkpoint.Failures;
import org.bytedeco.javacpp.chrono.Milliseconds;
import org.bytedeco.pytorch.Store;
import org.bytedeco.pytorch.StringVector;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Each rank's sign of life in the group's store: a counter it bumps every {@link #PERIOD}, on a connection of its
 * own. When a collective fails, {@link #explain} finds out why from what every rank sees the same: a rank that
 * said it failed, else, in a group the launcher started, the launcher's word on which of its ranks exited (it
 * sees each one end, so no clock decides), else the ranks whose counter stood still over {@link #WINDOW}, else the
 * store itself gone (it lives in rank 0, or in the launcher). The first verdict found is recorded in the store:
 * every rank names the same.
 */
final class Heartbeats implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Heartbeats.class);
    static final Duration PERIOD = Duration.ofMillis(250);
    /** 12 missed beats: a rank starved of CPU on a crowded host is slow, not gone. */
    static final Duration WINDOW = Duration.ofSeconds(3);
    private static final String VERDICT_KEY = "neuron/verdict";

    private final DistConfig config;
    private final Store beats;      // the heartbeat thread's connection
    private final Store queries;    // the loop thread's, for explain()
    private final ScheduledExecutorService timer;

    private Heartbeats(DistConfig config, Store beats, Store queries) {
        this.config = config;
        this.beats = beats;
        this.queries = queries;
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "dist-heartbeat");
            t.setDaemon(true);
            return t;
        });
    }

    static Heartbeats start(Group group) {
        return start(group.config(), group.storeConnection(), group.storeConnection());
    }

    /** Beats as {@code config}'s rank on {@code beats}, and explains on {@code queries}: two connections of one store. */
    static Heartbeats start(DistConfig config, Store beats, Store queries) {
        Heartbeats h = new Heartbeats(config, beats, queries);
        h.timer.scheduleAtFixedRate(h::beat, 0, PERIOD.toMillis(), TimeUnit.MILLISECONDS);
        return h;
    }

    private void beat() {
        try {
            beats.add(aliveKey(config.rank()), 1);
        } catch (RuntimeException e) {
            LOG.warn("{}: the group's store is unreachable, heartbeats stop: {}", config.describe(),
                    Group.firstLine(e));
            timer.shutdown();
        }
    }

    private static String aliveKey(int rank) {
        return "neuron/alive/" + rank;
    }

    private static String failedKey(int rank) {
        return "neuron/failed/" + rank;
    }

    /**
     * Why the group failed under this rank ({@code cause} is what this rank saw): a {@link GroupFailure} naming
     * the rank that is gone and {@code newest} (the last complete checkpoint, for the user's restart), or, if
     * every other rank is alive and well, {@code cause} itself after telling the others this rank failed.
     */
    RuntimeException explain(RuntimeException cause, String newest) {
        String lost;
        try {
            lost = lostRanks();
        } catch (RuntimeException storeGone) {
            lost = config.storeHosted() ? "the launcher, which served the group's store, is gone"
                    : "rank 0 of " + config.worldSize() + ", which served the group's store, is gone";
        }
        if (lost == null) {
            failedHere(cause);
            return cause;
        }
        return new GroupFailure(config.describe() + " stops: " + lost + " (" + Group.firstLine(cause)
                + "); " + newest + "; start the whole group again to resume there", cause);
    }

    /** Tells the other ranks that this one fails, and why: they name it and the reason when they stop. */
    void failedHere(Exception cause) {
        try {
            queries.set(failedKey(config.rank()), Failures.oneLine(cause));
        } catch (RuntimeException ignored) {
            // the others find this rank's heartbeat stopped instead
        }
    }

    /**
     * The launcher's verdict when its rank {@code rank} exited with {@code status} outside a graceful stop: the
     * reason the rank gave, if it gave one, else how it ended. A verdict already recorded stands.
     */
    static void rankExited(Store store, int rank, int worldSize, long pid, int status) {
        String name = "rank " + rank + " of " + worldSize;
        try {
            store.compareSet(VERDICT_KEY, "", store.check(new StringVector(failedKey(rank)))
                    ? name + " failed: " + store.get_to_str(failedKey(rank))
                    : name + " is gone (pid " + pid + (status > 128 ? " was killed by signal " + (status - 128)
                    : " exited with status " + status) + ")");
        } catch (RuntimeException e) {
            LOG.warn("the group's store did not take the verdict on {}: {}", name, Group.firstLine(e));
        }
    }

    /**
     * "rank 2 of 3 failed: ..." or "rank 1 of 3 is gone (no heartbeat for 1.5 s)", or null if every other rank is
     * alive and well. The first rank to find a verdict records it, and a rank that looks later takes that one:
     * by then the ranks that stopped over it have no heartbeat either.
     */
    private String lostRanks() {
        if (queries.check(new StringVector(VERDICT_KEY))) {
            return queries.get_to_str(VERDICT_KEY);
        }
        long[] before = counters();
        List<String> found = new ArrayList<>();
        for (int r = 0; r < config.worldSize(); r++) {
            if (r != config.rank() && queries.check(new StringVector(failedKey(r)))) {
                found.add("rank " + r + " of " + config.worldSize() + " failed: " + queries.get_to_str(failedKey(r)));
            }
        }
        if (found.isEmpty() && config.storeHosted()) {
            try {
                queries._wait(new StringVector(VERDICT_KEY), new Milliseconds(config.timeout().toMillis()));
                return queries.get_to_str(VERDICT_KEY);
            } catch (RuntimeException noneExited) {
                // every rank of the launcher still runs: one is stuck, or this rank failed by itself
            }
        }
        if (found.isEmpty()) {
            try {
                Thread.sleep(WINDOW.toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            long[] after = counters();
            for (int r = 0; r < config.worldSize(); r++) {
                if (r != config.rank() && after[r] == before[r]) {
                    found.add("rank " + r + " of " + config.worldSize());
                }
            }
            if (!found.isEmpty()) {
                found = List.of(String.join(", ", found) + (found.size() == 1 ? " is" : " are")
                        + " gone (no heartbeat for " + WINDOW.toMillis() / 1000.0 + " s)");
            }
        }
        if (found.isEmpty()) {
            return null;
        }
        return queries.compareSet(VERDICT_KEY, "", String.join("; ", found));
    }

    private long[] counters() {
        long[] c = new long[config.worldSize()];
        for (int r = 0; r < c.length; r++) {
            c[r] = queries.add(aliveKey(r), 0);
        }
        return c;
    }

    /** Stops beating: once this returns, no beat of this rank reaches the store any more. */
    @Override
    public void close() {
        timer.shutdownNow();
        try {
            timer.awaitTermination(config.timeout().toMillis(), TimeUnit.MILLISECONDS);   // a beat in flight
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
