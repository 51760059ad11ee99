package neuron.engine.validator;

import neuron.engine.checkpoint.CheckpointFiles;
import neuron.engine.checkpoint.CheckpointLoader;
import neuron.engine.journal.BlockJournal;
import neuron.engine.journal.JournalCursor;
import neuron.engine.model.BuiltinCorpus;
import neuron.engine.model.ModelConfig;
import neuron.engine.network.SubmissionStore;
import neuron.engine.network.WindowSchedule;
import neuron.engine.torch.TensorTrees;
import org.bytedeco.pytorch.Tensor;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.bytedeco.pytorch.global.torch.equal;

/**
 * The crash-replay tool's core: rebuilds a validator's state from a checkpoint through its block journal, the
 * way a restarted validator does (the journal holds every block with its commitments), but read-only: it writes
 * neither the journal nor the archive, and publishes nothing.
 */
public final class ValidatorReplay {
    private ValidatorReplay() {
    }

    /** A rebuilt state: the validator (close it), where it started, and how many blocks it replayed. */
    public record Rebuilt(Validator validator, long fromBlock, long blocksReplayed) {
    }

    /**
     * A replay checked against the newest checkpoint: rebuilt from {@code from}, the oldest backup, up to the
     * newest checkpoint's block, with every difference between the two states.
     */
    public record Verified(Path from, Rebuilt rebuilt, List<String> differences) {
        /** Whether anything was verified: the checkpoint had an older backup to replay from. */
        public boolean replayedFromABackup(Path checkpoint) {
            return !from.equals(checkpoint);
        }

        /** Verified, and nothing differs. */
        public boolean passed(Path checkpoint) {
            return differences.isEmpty() && replayedFromABackup(checkpoint);
        }
    }

    /**
     * The configuration of a checkpoint that records none (one the Python validator wrote): the {@code tiny}
     * model on the built-in corpus, seed 0, windows of the default length, one thread.
     */
    public static ValidatorConfig unrecordedConfig() {
        return ValidatorConfig.of(ModelConfig.preset("tiny"), 0, BuiltinCorpus.SOURCE,
                WindowSchedule.DEFAULT_BLOCKS_PER_WINDOW, 1);
    }

    /** As {@link #rebuild(Path, BlockJournal, Path, long, ValidatorConfig, String)}, with the checkpoint's config. */
    public static Rebuilt rebuild(Path checkpoint, BlockJournal journal, Path submissions, long toBlock,
                                  String device) throws IOException {
        return rebuild(checkpoint, journal, submissions, toBlock, unrecordedConfig(), device);
    }

    /**
     * Rebuilds from the oldest backup of {@code checkpoint} up to its block and compares the result with it: a
     * replay is verified when the two states are the same.
     */
    public static Verified verify(Path checkpoint, BlockJournal journal, Path submissions, String device)
            throws IOException {
        Map<?, ?> newest = TensorTrees.load(checkpoint, ValidatorRun.PROGRESS_KEY);
        List<Path> candidates = new CheckpointFiles(checkpoint, 0).candidates();
        Path from = candidates.get(candidates.size() - 1);
        Rebuilt rebuilt = rebuild(from, journal, submissions, (Long) newest.get(ValidatorRun.PROGRESS_KEY), device);
        try {
            return new Verified(from, rebuilt, differences(newest, rebuilt.validator().state()));
        } catch (RuntimeException e) {
            rebuilt.validator().close();
            throw e;
        }
    }

    /**
     * Loads {@code checkpoint} (configured by {@code flags} where it says nothing) and replays {@code journal}
     * after its block up to {@code toBlock}.
     */
    public static Rebuilt rebuild(Path checkpoint, BlockJournal journal, Path submissions, long toBlock,
                                  ValidatorConfig flags, String device) throws IOException {
        Validator validator = CheckpointLoader.load(checkpoint, ValidatorRun.PROGRESS_KEY,
                stored -> Validator.restore(TensorTrees.stored(stored), flags, device));
        long from = validator.block();
        long replayed = 0;
        SubmissionStore store = SubmissionStore.readOnly(submissions, ValidatorRun.archiveDir(journal.directory()));
        try (JournalCursor cursor = journal.replay(from, toBlock)) {
            while (cursor.next()) {
                validator.onBlock(cursor.block(), store, evaluated -> { });
                replayed++;
            }
        } catch (RuntimeException e) {
            validator.close();
            throw e;
        }
        return new Rebuilt(validator, from, replayed);
    }

    /** Every difference between a checkpoint's tree and a rebuilt state, as "key: what" lines; empty if none. */
    public static List<String> differences(Map<?, ?> expected, Map<?, ?> actual) {
        List<String> out = new ArrayList<>();
        compare("", expected, actual, out);
        return out;
    }

    private static void compare(String path, Object expected, Object actual, List<String> out) {
        if (expected instanceof Tensor e) {
            if (!(actual instanceof Tensor a) || !Arrays.equals(e.sizes().vec().get(), a.sizes().vec().get()) || !equal(e, a)) {
                out.add(path + ": tensors differ");
            }
        } else if (expected instanceof Map<?, ?> e) {
            if (!(actual instanceof Map<?, ?> a) || !e.keySet().equals(a.keySet())) {
                out.add(path + ": keys differ");
                return;
            }
            e.forEach((k, v) -> compare(path + "/" + k, v, a.get(k), out));
        } else if (expected == null ? actual != null : !expected.equals(actual)) {
            out.add(path + ": " + expected + " != " + actual);
        }
    }
}
