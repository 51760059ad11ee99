package neuron.engine.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import neuron.engine.checkpoint.UsageException;
import neuron.engine.journal.BlockJournal;
import neuron.engine.journal.JournalInfo;
import neuron.engine.nativeio.LibTorch;
import neuron.engine.validator.ValidatorReplay;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code neuron replay}: what a validator's journal holds, and the validator state rebuilt from a checkpoint
 * through the journal; with {@code --verify}, rebuilt from the oldest backup up to the newest checkpoint's block
 * and compared with it.
 */
@Command(name = "replay", mixinStandardHelpOptions = true,
        description = "Rebuild a validator's state from its checkpoint and block journal; --verify checks a "
                + "replay from the oldest backup against the newest checkpoint.")
final class ReplayCommand implements Callable<Integer> {
    @Option(names = "--journal_dir", paramLabel = "DIR", required = true, description = "the validator's block journal")
    Path journalDir;

    @Option(names = "--checkpoint_path", paramLabel = "FILE", required = true, description = "the validator's checkpoint")
    Path checkpointPath;

    @Option(names = "--to_block", paramLabel = "N", description = "replay up to block N (default: the journal's end)")
    Long toBlock;

    @Option(names = "--submissions", paramLabel = "DIR", defaultValue = "submissions",
            description = "the submissions the journal refers to (default: ${DEFAULT-VALUE})")
    Path submissions;

    @Option(names = "--verify", description = "replay from the oldest backup to the checkpoint's block and compare")
    boolean verify;

    @Option(names = "--json", description = "print JSON")
    boolean json;

    @Option(names = "--device", defaultValue = "cpu", description = "cpu | cuda | auto (default: ${DEFAULT-VALUE})")
    String device;

    @Override
    public Integer call() throws Exception {
        if (!Files.isDirectory(journalDir)) {
            throw new UsageException("--journal_dir " + journalDir + " is not a directory");
        }
        if (!Files.isRegularFile(checkpointPath)) {
            throw new UsageException("--checkpoint_path " + checkpointPath + " is not a file");
        }
        LibTorch.load();
        Map<String, Object> report = new LinkedHashMap<>();
        int status = Main.EXIT_OK;
        try (BlockJournal journal = BlockJournal.open(journalDir)) {
            report.put("journal", journalReport(journal.info()));
            ValidatorReplay.Verified verified = verify
                    ? ValidatorReplay.verify(checkpointPath, journal, submissions, device) : null;
            ValidatorReplay.Rebuilt rebuilt = verify ? verified.rebuilt() : ValidatorReplay.rebuild(checkpointPath,
                    journal, submissions, toBlock != null ? toBlock : Long.MAX_VALUE, device);
            Path start = verify ? verified.from() : checkpointPath;
            try {
                report.put("from_checkpoint", start.toString());
                report.put("from_block", rebuilt.fromBlock());
                report.put("blocks_replayed", rebuilt.blocksReplayed());
                report.put("block", rebuilt.validator().block());
                report.put("global_step", rebuilt.validator().globalStep());
                report.put("scores", rebuilt.validator().scores());
                report.put("weights", rebuilt.validator().weights());
                if (verify) {
                    report.put("verified_against", checkpointPath.toString());
                    report.put("differences", verified.differences());
                    status = verified.passed(checkpointPath) ? Main.EXIT_OK : Main.EXIT_FAILURE;
                    if (!verified.replayedFromABackup(checkpointPath)) {
                        report.put("warning", "no older backup to replay from; nothing was verified");
                    }
                }
            } finally {
                rebuilt.validator().close();
            }
        }
        print(report);
        return status;
    }

    private static Map<String, Object> journalReport(JournalInfo info) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("first_block", info.firstBlock());
        out.put("last_block", info.lastBlock());
        out.put("blocks", info.blocks());
        out.put("gaps", info.gaps().stream().map(g -> g.from() + ".." + g.to()).toList());
        out.put("reorgs", info.reorgs());
        out.put("evaluations", info.evaluations());
        return out;
    }

    private void print(Map<String, Object> report) throws Exception {
        PrintWriter out = new PrintWriter(System.out, true);
        if (json) {
            out.println(new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(report));
            return;
        }
        report.forEach((key, value) -> out.println(key + ": " + value));
    }
}
