package neuron.engine.log;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The limiter on a clock the test moves: no sleeping, and the counts are exact. */
class LogLimiterTest {
    private long now;
    private final List<String> lines = new ArrayList<>();
    private final LogLimiter limiter = new LogLimiter(Duration.ofMinutes(1), () -> now, lines::add);

    private void advanceMillis(long millis) {
        now += TimeUnit.MILLISECONDS.toNanos(millis);
    }

    @Test
    void aWarningRepeated360TimesIn80SecondsIsSaidTwiceWithItsCount() {
        String warning = "the aggregate of window 3 cannot be used yet: no file in the store";
        for (int i = 0; i < 360; i++) {
            limiter.say(warning);
            advanceMillis(80_000 / 360 + 1);
        }
        // said at 0 s; the repeats until the first one past 60 s are counted and said with it; the rest held
        assertEquals(List.of(warning, warning + " (repeated 270 times in 60 s)"), lines);
        limiter.done(warning);
        assertEquals(warning + ": repeated 89 more times in 20 s", lines.get(2));
        assertEquals(3, lines.size());
        limiter.say(warning);
        assertEquals(warning, lines.get(3), "after done, the next one is new again");
    }

    @Test
    void differentLinesUnderOneKeyShareTheCountAndOtherKeysAreNotHeldBack() {
        limiter.say("aggregate", "attempt 1 failed");
        limiter.say("other", "something else");
        limiter.say("aggregate", "attempt 2 failed");
        advanceMillis(60_000);
        limiter.say("aggregate", "attempt 3 failed");
        assertEquals(List.of("attempt 1 failed", "something else", "attempt 3 failed (repeated 2 times in 60 s)"),
                lines);
    }

    @Test
    void aWaitSaysWhatItWaitsForOnceAMinute() {
        for (int second = 0; second <= 150; second++) {
            limiter.waiting("validator 0's aggregate of window 4");
            advanceMillis(1_000);
        }
        assertEquals(List.of("waiting for validator 0's aggregate of window 4",
                "still waiting for validator 0's aggregate of window 4 (for 60 s)",
                "still waiting for validator 0's aggregate of window 4 (for 2 min)"), lines);
        limiter.done("validator 0's aggregate of window 4");
        assertEquals(3, lines.size(), "a wait that ends has nothing held back");
    }
}
