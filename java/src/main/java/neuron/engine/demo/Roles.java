package neuron.engine.demo;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** The demo's miners and validator: their flags, checkpoint files and metrics files, all in the output folder. */
final class Roles {
    static final String MINER_PROGRESS = "global_step";
    static final String VALIDATOR_PROGRESS = "block";
    /** Small steps, so two miners make visible progress on two shared cores. */
    private static final List<String> LIGHT_TRAINING = List.of("--model", "tiny", "--device", "cpu", "--threads", "1",
            "--batch_size", "4", "--seq_len", "64");

    private static final double PEAK_LR = 1e-3;

    private final Path dir;
    private final String chain;
    private final DemoRun.Settings settings;

    Roles(Path dir, String chain, DemoRun.Settings settings) {
        this.dir = dir;
        this.chain = chain;
        this.settings = settings;
    }

    Child miner(int uid) {
        String name = minerName(uid);
        List<String> args = new ArrayList<>(List.of("miner", "--uid", Integer.toString(uid),
                "--chain", chain, "--submissions", "submissions",
                "--checkpoint_path", checkpoint(name).toString(),
                "--checkpoint_interval", Long.toString(settings.minerCheckpointInterval()),
                "--metrics_csv", metrics(name).toString(), "--seed", "0",
                // the miners share the validator's seed (the network's initial weights) and the data; a learning
                // rate of their own tells their curves apart
                "--lr", Double.toString(PEAK_LR / uid)));
        args.addAll(LIGHT_TRAINING);
        return new Child(name, dir, args);
    }

    Child validator() {
        return new Child("validator", dir, List.of("validator", "--chain", chain, "--submissions", "submissions",
                "--checkpoint_path", checkpoint("validator").toString(),
                "--checkpoint_interval", Long.toString(settings.validatorCheckpointInterval()),
                "--metrics_csv", metrics("validator").toString(), "--model", "tiny", "--device", "cpu",
                "--threads", "1", "--seed", "0"));
    }

    static String minerName(int uid) {
        return "miner-" + uid;
    }

    Path checkpoint(String name) {
        return dir.resolve(name + ".pth");
    }

    Path metrics(String name) {
        return dir.resolve(name + ".metrics.csv");
    }

    /** The validator's checkpoint on disk holds at least one score (so a crash has scores to lose). */
    boolean validatorCheckpointHasScores() {
        try {
            return !CheckpointPeek.read(checkpoint("validator"), VALIDATOR_PROGRESS).scores().isEmpty();
        } catch (IOException notYet) {
            return false;
        }
    }
}
