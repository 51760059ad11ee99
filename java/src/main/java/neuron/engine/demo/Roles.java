package neuron.engine.demo;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The demo's network: three miners (uid 1 trains honestly, uid 2 is lazy and submits an empty update, uid 3
 * submits noise) and a validator (uid 0), their flags, checkpoint files and metrics files, all in the output folder.
 */
final class Roles {
    static final String MINER_PROGRESS = "global_step";
    static final String VALIDATOR_PROGRESS = "block";
    static final int VALIDATOR_UID = 0;
    static final List<Integer> MINERS = List.of(1, 2, 3);
    static final int HONEST = 1;
    /** Small steps, so three miners make visible progress on two shared cores. */
    private static final List<String> LIGHT_TRAINING = List.of("--model", "tiny", "--device", "cpu", "--threads", "1",
            "--seq_len", "64", "--seed", "0");
    private static final String STORE = "store";

    private final Path dir;
    private final String chain;
    private final DemoRun.Settings settings;

    Roles(Path dir, String chain, DemoRun.Settings settings) {
        this.dir = dir;
        this.chain = chain;
        this.settings = settings;
    }

    /** What miner {@code uid} submits, in the words the narration uses. */
    static String behaviour(int uid) {
        return switch (uid) {
            case 1 -> "honest: trains on its assigned rows";
            case 2 -> "lazy: submits an empty update";
            default -> "noisy: submits noise";
        };
    }

    Child miner(int uid) {
        String name = minerName(uid);
        List<String> args = new ArrayList<>(List.of("miner", "--uid", Integer.toString(uid),
                "--chain", chain, "--submissions", STORE, "--validator_uid", Integer.toString(VALIDATOR_UID),
                "--blocks_per_window", Integer.toString(settings.blocksPerWindow()),
                "--checkpoint_path", checkpoint(name).toString(),
                "--checkpoint_interval", Long.toString(settings.minerCheckpointInterval()),
                "--metrics_csv", metrics(name).toString(), "--warmup_steps", "5", "--lr", "2e-3",
                "--submit", uid == HONEST ? "trained" : uid == 2 ? "zero" : "noise",
                // the lazy and the noisy miner barely train: they only take a step per block
                "--batch_size", uid == HONEST ? "8" : "1"));
        args.addAll(LIGHT_TRAINING);
        return new Child(name, dir, settings.engine(), args);
    }

    Child validator() {
        List<String> args = new ArrayList<>(List.of("validator", "--chain", chain, "--submissions", STORE,
                "--uid", Integer.toString(VALIDATOR_UID), "--blocks_per_window",
                Integer.toString(settings.blocksPerWindow()), "--weights_interval", "1",
                "--checkpoint_path", checkpoint("validator").toString(),
                "--checkpoint_interval", Long.toString(settings.validatorCheckpointInterval()),
                "--metrics_csv", metrics("validator").toString()));
        args.addAll(List.of("--model", "tiny", "--device", "cpu", "--threads", "1", "--seed", "0"));
        return new Child("validator", dir, settings.engine(), args);
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

    /**
     * The validator has processed blocks past its checkpoint on disk, so a kill now leaves journaled blocks for
     * the restart to replay.
     */
    boolean validatorJournaledPastItsCheckpoint() {
        try {
            long onDisk = CheckpointPeek.read(checkpoint("validator"), VALIDATOR_PROGRESS).progress();
            return Series.read(metrics("validator"), 0, 2, 1, "uid ").stream()
                    .mapToLong(s -> (long) s.last()[0]).max().orElse(-1) >= onDisk + 2;
        } catch (IOException notYet) {
            return false;
        }
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
