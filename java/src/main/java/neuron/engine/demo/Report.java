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
            "final step/block", "final weight / miners scored"};

    private final List<String[]> rows;
    private final List<Chart.Panel> panels;

    private Report(List<String[]> rows, List<Chart.Panel> panels) {
        this.rows = rows;
        this.panels = panels;
    }

    static Report of(Roles roles, Crash crash, Network network, Child chain, List<Child> miners, Child validator)
            throws IOException {
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {chain.name(), "0", "0", "-", "-", "-", "-"});
        List<Series> losses = new ArrayList<>();
        List<Chart.Checkpoints> minerCheckpoints = new ArrayList<>();
        for (int i = 0; i < miners.size(); i++) {
            Child miner = miners.get(i);
            int uid = Roles.MINERS.get(i);
            boolean crashed = uid == Roles.HONEST;
            Series loss = Series.read(roles.metrics(miner.name()), 0, 1, -1, miner.name()).get(0);
            String log = miner.wholeLog();
            List<Long> persisted = LogFacts.all(log, LogFacts.PERSISTED);
            losses.add(loss);
            minerCheckpoints.add(new Chart.Checkpoints(miner.name(), persisted));
            rows.add(new String[] {miner.name(), crashed ? "1" : "0", crashed ? "1" : "0",
                    crashed ? "step " + crash.minerResumedAt() : "-", Integer.toString(persisted.size()),
                    "step " + LogFacts.last(log, LogFacts.MINER_STOPPED),
                    String.format(Locale.ROOT, "weight %.3f (%s)", network.finalWeights().getOrDefault(uid, 0f),
                            Roles.behaviour(uid).replaceAll(":.*", ""))});
        }
        String validatorLog = validator.wholeLog();
        List<Long> validatorPersisted = LogFacts.all(validatorLog, LogFacts.PERSISTED);
        CheckpointPeek last = CheckpointPeek.read(roles.checkpoint(validator.name()), Roles.VALIDATOR_PROGRESS);
        rows.add(new String[] {validator.name(), "1", "1", "block " + crash.validatorResumedAt() + " (+"
                + crash.replayed() + " replayed)", Integer.toString(validatorPersisted.size()),
                "block " + LogFacts.last(validatorLog, LogFacts.VALIDATOR_STOPPED),
                last.scores().size() + " miners scored"});
        List<Series> scores = Series.read(roles.metrics(validator.name()), 0, 2, 1, "score of uid ");
        List<Series> weights = Series.read(roles.metrics(validator.name()), 0, 3, 1, "weight of uid ");
        List<Chart.Checkpoints> validatorCheckpoints = List.of(new Chart.Checkpoints(validator.name(),
                validatorPersisted));
        List<Chart.Crash> validatorCrash = List.of(new Chart.Crash("validator", crash.validatorBlockAtKill(),
                crash.validatorResumedAt()));
        List<Chart.Panel> panels = List.of(
                new Chart.Panel("Training loss per miner (miner-1 was killed and restarted)", "global_step", "loss",
                        losses, minerCheckpoints,
                        List.of(new Chart.Crash("miner-1", crash.minerStepAtKill(), crash.minerResumedAt()))),
                new Chart.Panel("The network's loss on held-out rows (the base model, window after window)", "block",
                        "loss", network.heldOutLoss() == null ? List.of() : List.of(network.heldOutLoss()),
                        validatorCheckpoints, validatorCrash),
                new Chart.Panel("Validator scores per miner uid (moving average of the window scores)", "block",
                        "score", scores, validatorCheckpoints, validatorCrash),
                new Chart.Panel("Validator weights per miner uid (set on the chain as u16)", "block", "weight",
                        weights, validatorCheckpoints, validatorCrash));
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
        narrator.say("picture of the run (loss per miner, the network's held-out loss, scores and weights per uid, "
                + "checkpoints, crashes, restarts): " + png);
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
