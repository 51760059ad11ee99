package neuron.engine.demo;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import neuron.engine.network.WindowSchedule;

/**
 * The crash of miner-1 and the validator (SIGKILL), what their checkpoint files held at that moment, and the
 * evidence, after the restart, that each resumed from exactly that.
 */
final class Crash {
    private static final String REPLAYED_OR_LIVE = LogFacts.REPLAYED + "|no journaled block after block";

    private final Narrator narrator;
    private final long minerStepAtKill;
    private final CheckpointPeek minerCheckpoint;
    private final long validatorBlockAtKill;
    private final CheckpointPeek validatorCheckpoint;
    private long minerResumedAt = -1;
    private long validatorResumedAt = -1;
    private long replayed;

    private Crash(Narrator narrator, long minerStepAtKill, CheckpointPeek minerCheckpoint, long validatorBlockAtKill,
                  CheckpointPeek validatorCheckpoint) {
        this.narrator = narrator;
        this.minerStepAtKill = minerStepAtKill;
        this.minerCheckpoint = minerCheckpoint;
        this.validatorBlockAtKill = validatorBlockAtKill;
        this.validatorCheckpoint = validatorCheckpoint;
    }

    /** SIGKILLs miner-1 and the validator, then reads what they had reached and what their checkpoints hold. */
    static Crash of(Roles roles, Child miner, Child validator, Narrator narrator)
            throws InterruptedException, IOException {
        miner.kill();
        validator.kill();
        Series minerLoss = Series.read(roles.metrics(miner.name()), 0, 1, -1, miner.name()).get(0);
        long step = (long) minerLoss.last()[0];
        long block = lastBlock(Series.read(roles.metrics(validator.name()), 0, 2, 1, "uid "));
        CheckpointPeek minerFile = CheckpointPeek.read(roles.checkpoint(miner.name()), Roles.MINER_PROGRESS);
        CheckpointPeek validatorFile = CheckpointPeek.read(roles.checkpoint(validator.name()), Roles.VALIDATOR_PROGRESS);
        narrator.say("SIGKILL miner-1 at global_step " + step + " (as a crash would); its last checkpoint on disk: step "
                + minerFile.progress());
        narrator.say("SIGKILL the validator at block " + block + "; its last checkpoint on disk: block "
                + validatorFile.progress() + ", scores " + CheckpointPeek.listed(validatorFile.scores()) + "; weights "
                + CheckpointPeek.listed(validatorFile.weights()));
        return new Crash(narrator, step, minerFile, block, validatorFile);
    }

    /**
     * Where a restarted process must resume: its last checkpoint on disk, or a newer snapshot it had staged before
     * the kill, which the restart persists first (and says so).
     */
    private long expectedResume(Child child, CheckpointPeek onDisk) {
        long recovered = LogFacts.last(child.logOfRun(child.runs()), LogFacts.RECOVERED);
        if (recovered < 0) {
            return onDisk.progress();
        }
        narrator.say(child.name() + ": its snapshot of " + recovered + " had been staged (committed to the staging "
                + "queue) but not yet written when it was killed; the restart wrote it first and resumed from it");
        return recovered;
    }

    private static long lastBlock(List<Series> byUid) {
        return byUid.stream().mapToLong(s -> (long) s.last()[0]).max().orElse(-1);
    }

    /** Waits for both to resume and says, in plain words, whether each resumed from its checkpoint; returns what did not. */
    List<String> showResume(Roles roles, Child miner, Child validator, Duration patience)
            throws InterruptedException, IOException {
        List<String> problems = new ArrayList<>();
        Matcher m = miner.await(LogFacts.MINER_RESUMED, patience, "resume from its checkpoint");
        minerResumedAt = Long.parseLong(m.group(2));
        long expected = expectedResume(miner, minerCheckpoint);
        narrator.say(String.format("miner-1 resumed from %s at global_step %d; it had reached step %d, so %s",
                m.group(1), minerResumedAt, minerStepAtKill, minerResumedAt < minerStepAtKill
                        ? (minerStepAtKill - minerResumedAt) + " steps are done again (the same batches: the same results)"
                        : "no step is lost"));
        if (minerResumedAt != expected) {
            problems.add("miner-1 resumed at step " + minerResumedAt + ", not at its checkpoint's step " + expected);
        }
        m = validator.await(LogFacts.VALIDATOR_RESUMED, patience, "resume from its checkpoint");
        validatorResumedAt = Long.parseLong(m.group(2));
        int scored = Integer.parseInt(m.group(4));
        expected = expectedResume(validator, validatorCheckpoint);
        CheckpointPeek resumedFrom = validatorResumedAt == validatorCheckpoint.progress() ? validatorCheckpoint
                : CheckpointPeek.read(roles.checkpoint(validator.name()), Roles.VALIDATOR_PROGRESS);
        narrator.say("validator resumed from " + m.group(1) + " at block " + validatorResumedAt + " with " + scored
                + " miners scored: its scores and weights survived the crash"
                + (resumedFrom.progress() == validatorResumedAt ? " (those of that checkpoint: scores "
                + CheckpointPeek.listed(resumedFrom.scores()) + "; weights " + CheckpointPeek.listed(resumedFrom.weights()) + ")" : ""));
        if (validatorResumedAt != expected || (resumedFrom.progress() == validatorResumedAt
                && scored != resumedFrom.scores().size())) {
            problems.add("the validator resumed at block " + validatorResumedAt + " with " + scored
                    + " miners scored; its checkpoint holds block " + expected);
        }
        m = validator.await(REPLAYED_OR_LIVE, patience, "replay its journal or follow the chain");
        if (m.group(1) != null) {
            replayed = Long.parseLong(m.group(1));
            narrator.say("validator replayed " + replayed + " journaled blocks (" + (validatorResumedAt + 1) + ".."
                    + m.group(2) + ", seen before the crash) before taking live blocks");
            // the last block both runs wrote down (the journal may hold a block the first run never finished)
            problems.addAll(compareReplay(roles, Math.min(Long.parseLong(m.group(2)), validatorBlockAtKill)));
        } else {
            narrator.say("validator: no journaled block after its checkpoint's block to replay; following live blocks");
        }
        return problems;
    }

    /** The scores the validator had at {@code block} before the kill against those it has there after the replay. */
    private List<String> compareReplay(Roles roles, long block) throws IOException {
        List<Series> byUid = Series.read(roles.metrics("validator"), 0, 2, 1, "uid ");
        StringBuilder same = new StringBuilder();
        List<String> problems = new ArrayList<>();
        for (Series uid : byUid) {
            Double before = uid.segments().isEmpty() ? null : valueAt(uid.segments().get(0), block);
            Double after = uid.segments().size() < 2 ? null : valueAt(uid.segments().get(1), block);
            if (before == null || after == null) {
                continue;
            }
            if (before.equals(after)) {
                same.append(same.length() == 0 ? "" : ", ").append(uid.name()).append(' ').append(before);
            } else {
                problems.add("validator score of " + uid.name() + " at block " + block + ": " + before
                        + " before the kill, " + after + " after the replay");
            }
        }
        if (same.length() > 0) {
            narrator.say("after the replay its scores at block " + block + " are exactly those it had at block " + block
                    + " before the kill (" + same + ")");
        }
        return problems;
    }

    private static Double valueAt(List<double[]> points, long x) {
        return points.stream().filter(p -> p[0] == x).map(p -> p[1]).findFirst().orElse(null);
    }

    /** The validator has judged the restarted miner-1's first update after its restart. */
    boolean restartedMinerJudged(Child miner, Child validator) {
        List<Long> committed = LogFacts.all(miner.logOfRun(miner.runs()), LogFacts.COMMITTED);
        return !committed.isEmpty() && LogFacts.outcome(validator.wholeLog(), Roles.HONEST, committed.get(0)) != null;
    }

    /**
     * Says whether the restarted miner-1 was back in sync at once: its first update after the restart was made
     * against the network's base (accepted, or at least not out of sync). Returns what was not.
     */
    List<String> showMinerInSync(Child miner, Child validator) {
        List<Long> committed = LogFacts.all(miner.logOfRun(miner.runs()), LogFacts.COMMITTED);
        if (committed.isEmpty()) {
            return List.of("miner-1 committed no update after its restart");
        }
        long window = committed.get(0);
        String outcome = LogFacts.outcome(validator.wholeLog(), Roles.HONEST, window);
        boolean inSync = "accepted".equals(outcome) || "not better".equals(outcome);
        narrator.say("miner-1's first update after its restart (window " + window + ") was "
                + (outcome == null ? "not evaluated by the end" : outcome) + (inSync
                ? ": it caught up with the network's base from its checkpoint and was in sync at once" : ""));
        return inSync ? List.of()
                : List.of("miner-1's first update after its restart (window " + window + ") was " + outcome);
    }

    /**
     * Says how miner-1's score went over the windows it committed nothing for (while it was down): each counts as a
     * zero in the moving average, so a miner that stops submitting loses its score. Returns what was not so.
     */
    List<String> showMissedWindows(Roles roles, Child miner, WindowSchedule schedule) throws IOException {
        List<Long> before = LogFacts.all(miner.logOfRun(miner.runs() - 1), LogFacts.COMMITTED);
        List<Long> after = LogFacts.all(miner.logOfRun(miner.runs()), LogFacts.COMMITTED);
        if (before.isEmpty() || after.isEmpty() || after.get(0) <= before.get(before.size() - 1) + 1) {
            narrator.say("miner-1 missed no window while it was down");
            return List.of();
        }
        long first = before.get(before.size() - 1) + 1;
        long last = after.get(0) - 1;
        Series honest = Series.read(roles.metrics("validator"), 0, 2, 1, "uid ").stream()
                .filter(s -> s.name().equals("uid " + Roles.HONEST)).findFirst().orElse(null);
        // the score before the first missed window's evaluation, and after the last one's
        Double from = honest == null ? null : scoreAt(honest, schedule.evaluationBlock(first) - 1);
        Double to = honest == null ? null : scoreAt(honest, schedule.evaluationBlock(last));
        if (from == null || to == null) {
            narrator.say("miner-1 committed nothing for windows " + first + ".." + last + " while it was down");
            return List.of();
        }
        narrator.say(String.format(Locale.ROOT, "miner-1 committed nothing for windows %d..%d while it was "
                + "down: each counted as a zero, its score went from %.5f to %.5f (a miner that stops submitting loses "
                + "its score)", first, last, from, to));
        return to < from ? List.of() : List.of("miner-1's score did not fall over the windows it missed");
    }

    /** The newest value at or before block {@code x}, over every segment. */
    private static Double scoreAt(Series series, long x) {
        Double value = null;
        double at = -1;
        for (List<double[]> segment : series.segments()) {
            for (double[] p : segment) {
                if (p[0] <= x && p[0] >= at) {
                    at = p[0];
                    value = p[1];
                }
            }
        }
        return value;
    }

    long minerStepAtKill() {
        return minerStepAtKill;
    }

    long minerResumedAt() {
        return minerResumedAt;
    }

    long validatorBlockAtKill() {
        return validatorBlockAtKill;
    }

    long validatorResumedAt() {
        return validatorResumedAt;
    }

    long replayed() {
        return replayed;
    }

}
