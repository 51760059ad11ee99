package neuron.engine.demo;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** The end of the demo: the summary table (printed and in summary.txt) and the picture (demo.png). */
final class Report {
    private static final String[] HEADER = {"process", "kills", "restarts", "resumed at", "checkpoints written",
            "final step/block", "final loss / miners scored"};

    private final List<String[]> rows;
    private final List<Chart.Panel> panels;

    private Report(List<String[]> rows, List<Chart.Panel> panels) {
        this.rows = rows;
        this.panels = panels;
    }

    static Report of(Roles roles, Crash crash, Child chain, Child miner1, Child miner2, Child validator)
            throws IOException {
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {chain.name(), "0", "0", "-", "-", "-", "-"});
        List<Series> losses = new ArrayList<>();
        List<Chart.Checkpoints> minerCheckpoints = new ArrayList<>();
        for (Child miner : List.of(miner1, miner2)) {
            boolean crashed = miner == miner1;
            Series loss = Series.read(roles.metrics(miner.name()), 0, 1, -1, miner.name()).get(0);
            String log = miner.wholeLog();
            List<Long> persisted = LogFacts.all(log, LogFacts.PERSISTED);
            losses.add(loss);
            minerCheckpoints.add(new Chart.Checkpoints(miner.name(), persisted));
            rows.add(new String[] {miner.name(), crashed ? "1" : "0", crashed ? "1" : "0",
                    crashed ? "step " + crash.minerResumedAt() : "-", Integer.toString(persisted.size()),
                    "step " + LogFacts.last(log, LogFacts.MINER_STOPPED),
                    String.format(Locale.ROOT, "loss %.4f", loss.last()[1])});
        }
        String validatorLog = validator.wholeLog();
        List<Long> validatorPersisted = LogFacts.all(validatorLog, LogFacts.PERSISTED);
        CheckpointPeek last = CheckpointPeek.read(roles.checkpoint(validator.name()), Roles.VALIDATOR_PROGRESS);
        rows.add(new String[] {validator.name(), "1", "1", "block " + crash.validatorResumedAt() + " (+"
                + crash.replayed() + " replayed)", Integer.toString(validatorPersisted.size()),
                "block " + LogFacts.last(validatorLog, LogFacts.VALIDATOR_STOPPED),
                last.scores().size() + " miners scored"});
        List<Series> scores = Series.read(roles.metrics(validator.name()), 0, 2, 1, "score of uid ");
        List<Chart.Panel> panels = List.of(
                new Chart.Panel("Training loss per miner (miner-1 was killed and restarted)", "global_step", "loss",
                        losses, minerCheckpoints,
                        List.of(new Chart.Crash("miner-1", crash.minerStepAtKill(), crash.minerResumedAt()))),
                new Chart.Panel("Validator scores per miner uid (the validator was killed and restarted)", "block",
                        "score", scores, List.of(new Chart.Checkpoints(validator.name(), validatorPersisted)),
                        List.of(new Chart.Crash("validator", crash.validatorBlockAtKill(),
                                crash.validatorResumedAt()))));
        return new Report(rows, panels);
    }

    /** Prints the table, writes summary.txt and demo.png into {@code dir}. */
    void write(Path dir, Narrator narrator) throws IOException {
        List<String> table = table();
        narrator.say("summary:");
        table.forEach(narrator::say);
        Files.write(dir.resolve("summary.txt"), table);
        Path png = dir.resolve("demo.png");
        Chart.write(png, panels);
        narrator.say("picture of the run (loss per miner, scores per uid, checkpoints, crashes, restarts): " + png);
    }

    private List<String> table() {
        int[] widths = new int[HEADER.length];
        List<String[]> all = new ArrayList<>();
        all.add(HEADER);
        all.addAll(rows);
        all.forEach(r -> {
            for (int i = 0; i < r.length; i++) {
                widths[i] = Math.max(widths[i], r[i].length());
            }
        });
        List<String> lines = new ArrayList<>();
        for (String[] row : all) {
            StringBuilder line = new StringBuilder();
            for (int i = 0; i < row.length; i++) {
                line.append(i == 0 ? "" : " | ").append(String.format("%-" + widths[i] + "s", row[i]));
            }
            lines.add(line.toString().stripTrailing());
            if (row == HEADER) {
                lines.add("-".repeat(line.length()));
            }
        }
        return lines;
    }
}
