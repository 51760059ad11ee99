package neuron.engine.cli;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Locale;
import java.util.Map;

/**
 * {@code --metrics_csv FILE}: the figures a plot needs, appended as CSV rows (a miner's {@code global_step,loss}
 * per step; a validator's {@code block,uid,score,weight,held_out_loss} per block and scored uid, the last column
 * the network's loss on the held-out rows, the same in every row of a block). Each row is flushed, so a
 * SIGKILL loses at most the row being written; a restart appends to the same file.
 */
final class MetricsCsv implements AutoCloseable {
    static final String MINER_HEADER = "global_step,loss";
    static final String VALIDATOR_HEADER = "block,uid,score,weight,held_out_loss";

    private final Path file;
    private BufferedWriter out;

    MetricsCsv(Path file) {
        this.file = file;
    }

    void trainingStep(long globalStep, double loss) {
        row(MINER_HEADER, String.format(Locale.ROOT, "%d,%.6f", globalStep, loss));
    }

    void validatorState(long block, Map<Integer, Double> scores, Map<Integer, Double> weights, double heldOutLoss) {
        StringBuilder rows = new StringBuilder();
        scores.forEach((uid, score) -> rows.append(String.format(Locale.ROOT, "%s%d,%d,%.8g,%.8g,%.6f",
                rows.length() == 0 ? "" : "\n", block, uid, score, weights.getOrDefault(uid, 0.0), heldOutLoss)));
        if (rows.length() > 0) {
            row(VALIDATOR_HEADER, rows.toString());
        }
    }

    private void row(String header, String row) {
        try {
            if (out == null) {
                boolean fresh = !Files.exists(file) || Files.size(file) == 0;
                out = Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                        StandardOpenOption.APPEND);
                if (fresh) {
                    out.write(header);
                    out.newLine();
                }
            }
            out.write(row);
            out.newLine();
            out.flush();
        } catch (IOException e) {
            throw new UncheckedIOException("--metrics_csv " + file + ": " + e.getMessage(), e);
        }
    }

    @Override
    public void close() throws IOException {
        if (out != null) {
            out.close();
        }
    }
}
