package neuron.engine.miner;

import neuron.engine.checkpoint.CheckpointMismatchException;
import neuron.engine.checkpoint.Failures;
import neuron.engine.checkpoint.StoredCheckpoint;
import neuron.engine.model.HfWeights;
import neuron.engine.model.LlamaLayout;
import neuron.engine.model.ModelConfig;
import neuron.engine.model.StateTrees;
import neuron.engine.model.TokenData;
import neuron.engine.pth.PyFloat;
import neuron.engine.torch.TensorTrees;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * How a miner begins: resumed from its checkpoint (the engine's own, or one the Python miner wrote without the
 * engine's {@code config} and {@code seed}), started from a Hugging Face directory ({@code --init_from}), or fresh.
 * It logs what was restored (step, parameters, optimizer state and its step count, the schedule and its lr) and, in
 * one warning line, every given flag that disagrees with the checkpoint ({@link FlagPrecedence}). A readable
 * checkpoint that does not fit is refused with a {@link CheckpointMismatchException}, never overwritten.
 */
public final class MinerStart {
    private static final Logger LOG = LoggerFactory.getLogger(MinerStart.class);

    private MinerStart() {
    }

    /** The loop to train; what the log says about how it began; the flags warning, or null. */
    public record Started(MinerLoop loop, String summary, String flagWarning) implements AutoCloseable {
        /** Frees the loop: a checkpoint found damaged after its state was built is not resumed from. */
        @Override
        public void close() {
            loop.close();
        }
    }

    /**
     * Resumes from {@code stored} (a {@link neuron.engine.checkpoint.CheckpointLoader.Restorer}).
     *
     * @param flags    the options the command line describes
     * @param given    which flags it gave
     * @param maxSteps --max_steps (0: none): a checkpoint already past it is refused
     */
    public static Started resume(StoredCheckpoint stored, MinerOptions flags, MinerFlags given, long maxSteps)
            throws IOException {
        Path file = stored.file();
        long step = stored.progress();
        if (step < 0) {
            throw new CheckpointMismatchException(file, "a readable torch.save file, but not a miner's checkpoint: it has "
                    + "no integer 'global_step' (its keys: " + stored.root().keySet() + "); pass the right --checkpoint_path");
        }
        if (maxSteps > 0 && maxSteps < step) {
            throw new CheckpointMismatchException(file, "its global_step is " + step + ", past --max_steps " + maxSteps
                    + " (the step to stop at, not a count of steps): pass a --max_steps above " + step
                    + ", or 0 to run until stopped");
        }
        return logged(resume(file, step, TensorTrees.stored(stored), flags, given));
    }

    /** A start without a checkpoint: from {@code --init_from}'s directory, else fresh. */
    public static Started begin(MinerOptions flags, MinerFlags given) {
        return begin(flags, given, Replica.ALONE);
    }

    /** As {@link #begin(MinerOptions, MinerFlags)}, as {@code replica}'s rank: every rank begins with the same weights. */
    public static Started begin(MinerOptions flags, MinerFlags given, Replica replica) {
        return logged(given.initFrom() == null ? fresh(flags, replica) : initFrom(flags, given, replica));
    }

    /** The model {@link #begin} builds: {@code --init_from}'s config.json, else the flags'. */
    public static ModelConfig beginModel(MinerOptions flags, MinerFlags given) {
        return given.initFrom() == null ? flags.model()
                : HfWeights.config(given.initFrom(), given.given("seq_len") ? flags.model().seqLen() : null);
    }

    private static Started logged(Started started) {
        if (started.flagWarning() != null) {
            LOG.warn(started.flagWarning());
        }
        LOG.info(started.summary());
        return started;
    }

    private static Started resume(Path file, long step, Map<?, ?> tree, MinerOptions flags, MinerFlags given)
            throws CheckpointMismatchException {
        MinerOptions recorded;
        Map<?, ?> state;
        Long fingerprint;
        String origin;
        try {
            if (tree.containsKey("config")) {
                Map<?, ?> config = StateTrees.map(tree, "config");
                recorded = MinerOptions.fromConfigMap(config, StateTrees.longValue(tree, "seed"));
                fingerprint = StateTrees.longValue(config, "data_fingerprint");
                state = tree;
                origin = null;
            } else {
                PythonCheckpoint.Completed python = PythonCheckpoint.complete(tree, step, flags, given);
                recorded = python.options();
                fingerprint = null;
                state = python.tree();
                origin = python.origin();
            }
        } catch (IllegalArgumentException e) {
            throw misfit(file, e);
        }
        FlagPrecedence.Resolved resolved = FlagPrecedence.resolve(recorded, flags, given, "the checkpoint");
        MinerOptions options = resolved.options();
        if (!sameSchedule(options.training(), recorded.training())) {
            state = withSchedule(state, options.training());
        }
        TokenData data = data(file, options, given.overrides("data") ? null : fingerprint);
        MinerLoop loop;
        try {
            loop = MinerLoop.restore(state, options, data);
        } catch (IllegalArgumentException e) {
            throw misfit(file, e);
        }
        String warning = resolved.warning();
        if (given.initFrom() != null) {
            String ignored = "--init_from " + given.initFrom() + " is ignored: the checkpoint is resumed";
            warning = warning == null ? ignored : warning + "; " + ignored;
        }
        return new Started(loop, "miner resumed from " + file + " at global_step " + step
                + (origin == null ? "" : " (" + origin + ")") + ": " + model(options) + "; " + optimizer(state) + "; "
                + schedule(state, loop), warning);
    }

    private static Started fresh(MinerOptions flags, Replica replica) {
        MinerLoop loop = MinerLoop.create(flags, replica);
        return new Started(loop, "miner starting at global_step 0 (no checkpoint): " + model(flags)
                + ", weights drawn from seed " + flags.seed() + "; AdamW with empty moments; schedule at step 0, lr "
                + PyFloat.repr(loop.lr()) + " for the next step", null);
    }

    private static Started initFrom(MinerOptions flags, MinerFlags given, Replica replica) {
        Path dir = given.initFrom();
        ModelConfig config = beginModel(flags, given);
        FlagPrecedence.Resolved resolved = FlagPrecedence.resolve(flags.withModel(config), flags, given,
                "--init_from's config.json");
        MinerLoop loop = MinerLoop.create(flags.withModel(config), replica);
        try {
            HfWeights.load(dir, loop.model());
        } catch (RuntimeException e) {
            loop.close();
            throw e;
        }
        return new Started(loop, "miner starting at global_step 0 from " + dir + ": " + model(loop.options())
                + ", weights from its model.safetensors; AdamW with empty moments; schedule at step 0, lr "
                + PyFloat.repr(loop.lr()) + " for the next step", resolved.warning());
    }

    private static boolean sameSchedule(TrainingOptions a, TrainingOptions b) {
        return a.lr() == b.lr() && a.warmupSteps() == b.warmupSteps() && a.decaySteps() == b.decaySteps()
                && a.minLrRatio() == b.minLrRatio();
    }

    /**
     * The state with its schedule recomputed for {@code training} at the step it had reached, and AdamW's lr and
     * initial_lr to match: what an overridden --lr, --warmup_steps, --decay_steps or --min_lr_ratio means.
     */
    private static Map<?, ?> withSchedule(Map<?, ?> state, TrainingOptions training) {
        long epoch = StateTrees.longValue(StateTrees.map(state, "scheduler_state_dict"), "last_epoch");
        WarmupCosineSchedule schedule = WarmupCosineSchedule.at(training, epoch);
        Map<Object, Object> out = new LinkedHashMap<>(state);
        out.put("scheduler_state_dict", schedule.stateDict());
        if (state.get("optimizer_state_dict") instanceof Map<?, ?> optimizer) {
            List<?> groups = StateTrees.list(optimizer, "param_groups");
            if (groups.size() == 1 && groups.get(0) instanceof Map<?, ?> group) {
                Map<Object, Object> newGroup = new LinkedHashMap<>(group);
                newGroup.put("lr", schedule.lr());
                newGroup.put("initial_lr", training.lr());
                Map<Object, Object> newOptimizer = new LinkedHashMap<>(optimizer);
                newOptimizer.put("param_groups", List.of(newGroup));
                out.put("optimizer_state_dict", newOptimizer);
            }
        }
        return out;
    }

    /**
     * The run's data, checked against the checkpoint's fingerprint unless that is null (the flags chose the data).
     * Data that cannot be used refuses the resume; it never makes the checkpoint look damaged.
     */
    private static TokenData data(Path file, MinerOptions options, Long fingerprint) throws CheckpointMismatchException {
        String advice = fingerprint == null ? ": pass a --data PATH that can be read"
                : ": pass --data PATH --override data to go on with other data";
        TokenData data;
        try {
            data = TokenData.open(options.data());
        } catch (IllegalArgumentException | UncheckedIOException e) {
            throw new CheckpointMismatchException(file, "its data cannot be read (" + Failures.oneLine(e) + ")" + advice);
        }
        if (fingerprint == null) {
            return data;
        }
        if (data.fingerprint() != fingerprint) {
            throw new CheckpointMismatchException(file, "its data " + options.data()
                    + " differs from the data it was trained on" + advice);
        }
        return data;
    }

    private static CheckpointMismatchException misfit(Path file, IllegalArgumentException e) {
        return new CheckpointMismatchException(file, "does not fit this miner: " + Failures.oneLine(e)
                + ". Pass another --checkpoint_path to start fresh, or remove what does not fit from the file "
                + "in Python to resume without it");
    }

    private static String model(MinerOptions options) {
        ModelConfig c = options.model();
        return String.format(Locale.ROOT, "%,d parameters (%s, seq_len %d)", c.parameterCount(),
                LlamaLayout.describe(c), c.seqLen());
    }

    /** "AdamW state for 38 tensors at step 500", from the state before it was loaded. */
    private static String optimizer(Map<?, ?> state) {
        if (!(state.get("optimizer_state_dict") instanceof Map<?, ?> optimizer)) {
            return "no optimizer state: AdamW starts with empty moments";
        }
        Map<?, ?> entries = StateTrees.map(optimizer, "state");
        long step = 0;
        for (Object entry : entries.values()) {
            step = Math.max(step, Math.round(StateTrees.tensor((Map<?, ?>) entry, "step").item_double()));
        }
        return "AdamW state for " + entries.size() + " tensors at step " + step;
    }

    private static String schedule(Map<?, ?> state, MinerLoop loop) {
        long epoch = StateTrees.longValue(StateTrees.map(state, "scheduler_state_dict"), "last_epoch");
        return "LambdaLR schedule at step " + epoch + ", lr " + PyFloat.repr(loop.lr()) + " for the next step";
    }
}
