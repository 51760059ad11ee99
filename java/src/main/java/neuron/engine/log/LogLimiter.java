package neuron.engine.log;

import org.slf4j.Logger;

import java.time.Duration;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

/**
 * Keeps a line that a retry loop says over and over from flooding the log: the first time a key is said, its line
 * goes out; the same key again within the interval is only counted, and the first time after it the line goes out
 * with the count ("… (repeated 359 times in 80 s)"). A wait says what it waits for at most once per interval,
 * with how long it has waited. Not thread-safe: one per loop.
 */
public final class LogLimiter {
    private final long intervalNanos;
    private final LongSupplier nanoClock;
    private final Consumer<String> out;
    private final Map<String, Seen> seen = new HashMap<>();

    /** @param nanoClock a monotonic clock in nanoseconds ({@code System::nanoTime}; a test's own) */
    public LogLimiter(Duration interval, LongSupplier nanoClock, Consumer<String> out) {
        this.intervalNanos = interval.toNanos();
        this.nanoClock = nanoClock;
        this.out = out;
    }

    /** A limiter whose lines go to {@code log} as warnings. */
    public static LogLimiter warnings(Logger log, Duration interval) {
        return new LogLimiter(interval, System::nanoTime, log::warn);
    }

    /** A limiter whose lines go to {@code log} as information. */
    public static LogLimiter infos(Logger log, Duration interval) {
        return new LogLimiter(interval, System::nanoTime, log::info);
    }

    /** Says {@code line} (its own key) now, or counts it if it was said less than an interval ago. */
    public void say(String line) {
        say(line, line);
    }

    /** As {@link #say(String)}, counted under {@code key}: lines that differ in a detail can share one. */
    public void say(String key, String line) {
        long now = nanoClock.getAsLong();
        Seen s = seen.get(key);
        if (s == null) {
            seen.put(key, new Seen(now));
            out.accept(line);
            return;
        }
        s.held++;
        if (now - s.saidAt >= intervalNanos) {
            out.accept(String.format(Locale.ROOT, "%s (repeated %d times in %s)", line, s.held,
                    seconds(now - s.saidAt)));
            s.saidAt = now;
            s.held = 0;
        }
    }

    /**
     * A wait on {@code what} goes on: the first call says "waiting for WHAT", and then once per interval
     * "still waiting for WHAT (for N s)"; {@link #done} ends it.
     */
    public void waiting(String what) {
        long now = nanoClock.getAsLong();
        Seen s = seen.get(what);
        if (s == null) {
            Seen started = new Seen(now);
            started.since = now;
            seen.put(what, started);
            out.accept("waiting for " + what);
        } else if (now - s.saidAt >= intervalNanos) {
            out.accept("still waiting for " + what + " (for " + seconds(now - s.since) + ")");
            s.saidAt = now;
        }
    }

    /** The repeats or the wait under {@code key} are over: counted lines not said yet are, with their count. */
    public void done(String key) {
        Seen s = seen.remove(key);
        if (s != null && s.held > 0) {
            out.accept(String.format(Locale.ROOT, "%s: repeated %d more times in %s", key, s.held,
                    seconds(nanoClock.getAsLong() - s.saidAt)));
        }
    }

    private static String seconds(long nanos) {
        long s = Math.round(nanos / 1e9);
        return s < 120 ? s + " s" : (s / 60) + " min";
    }

    private static final class Seen {
        long saidAt;
        long since;
        int held;

        Seen(long now) {
            this.saidAt = now;
        }
    }
}
