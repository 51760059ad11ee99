package neuron.engine.demo;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The engine's log lines the demo reads (their wording is the engine's; see MinerRun, ValidatorRun, Checkpointer). */
final class LogFacts {
    static final String SERVING = "serving (ws://\\S+)";
    static final String MINER_RESUMED = "miner resumed from (\\S+) at global_step (\\d+)";
    static final String VALIDATOR_RESUMED = "validator resumed from (\\S+) at block (\\d+), global_step (\\d+); "
            + "scores and weights restored: (\\d+) miners scored";
    static final String REPLAYED = "replayed (\\d+) journaled blocks, up to block (\\d+)";
    static final String PERSISTED = "checkpoint persisted[^:\n]*: (?:step|block) (\\d+)";
    /** A snapshot the killed process had staged but not written, persisted by its successor before it resumed. */
    static final String RECOVERED = "checkpoint persisted \\(staged by the previous process, recovered\\): "
            + "(?:step|block) (\\d+)";
    static final String MINER_STOPPED = "miner stopped at global_step (\\d+)";
    static final String VALIDATOR_STOPPED = "validator stopped at block (\\d+)";
    static final String STOPPED_ON_DISK = "(?:miner|validator) stopped at .* is on disk";
    static final String VALIDATOR_STARTED = "validator (?:starting fresh|resumed from)";
    /** A miner's update, committed on the chain (group 1: the window). */
    static final String COMMITTED = "committed its update for window (\\d+)";
    /** The weights set on the chain (group 1: the block). */
    static final String WEIGHTS_SET = "weights set on the chain by validator uid \\d+ at block (\\d+)";

    /** How the validator scored {@code uid}'s update for {@code window}: "accepted", "not better", …; null if never. */
    static String outcome(String validatorLog, int uid, long window) {
        Matcher m = Pattern.compile("window " + window + " evaluated at block \\d+: [^;]*\\buid " + uid
                + " (accepted|not better|out of sync|invalid)").matcher(validatorLog);
        String last = null;
        while (m.find()) {
            last = m.group(1);
        }
        return last;
    }

    private LogFacts() {
    }

    /** Every value of group 1 of {@code regex} in {@code log}. */
    static List<Long> all(String log, String regex) {
        Matcher m = Pattern.compile(regex).matcher(log);
        List<Long> values = new ArrayList<>();
        while (m.find()) {
            values.add(Long.parseLong(m.group(1)));
        }
        return values;
    }

    /** The last value of group 1 of {@code regex} in {@code log}, or -1. */
    static long last(String log, String regex) {
        List<Long> values = all(log, regex);
        return values.isEmpty() ? -1 : values.get(values.size() - 1);
    }
}
