package neuron.engine.cli;

import neuron.engine.backup.Backup;
import neuron.engine.checkpoint.CheckpointConfig;
import neuron.engine.eval.ValidatorConfig;
import neuron.engine.eval.WindowMiner;
import neuron.engine.nativeio.LibTorch;
import neuron.engine.train.MinerArguments;
import neuron.engine.train.MinerRun;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code neuron miner}: trains, checkpoints asynchronously, resumes from its checkpoint with no flag. */
@Command(name = "miner", mixinStandardHelpOptions = true, defaultValueProvider = MinerArguments.Defaults.class,
        description = "Train a LLaMA-style model, checkpointing asynchronously; resumes from the checkpoint by itself "
                + "(the engine's, or one the Python miner wrote).")
final class MinerCommand implements Callable<Integer> {
    @Mixin
    CheckpointOptions checkpoint;

    @Mixin
    MinerArguments training;

    @Option(names = "--max_steps", paramLabel = "N", defaultValue = "0",
            description = "stop gracefully once global_step reaches N (0: run until stopped)")
    long maxSteps;

    @Option(names = "--chain", description = "take part in a network: follow its base model, train on the rows "
            + "each window assigns, commit an update every window: local | ws://HOST:PORT (default: none, train alone)")
    String chain;

    @Option(names = "--submissions", paramLabel = "DIR",
            description = "the network's store, where the miner puts its updates, with --chain (default: ./submissions)")
    String submissions;

    @Option(names = "--uid", defaultValue = "0", description = "this miner's uid (default: ${DEFAULT-VALUE})")
    int uid;

    @Option(names = "--validator_uid", defaultValue = "0",
            description = "the validator whose aggregates the miner follows, with --chain (default: ${DEFAULT-VALUE})")
    int validatorUid;

    @Mixin
    WindowOptions window;

    @Option(names = "--submit", defaultValue = "trained", hidden = true,
            description = "trained | zero | noise: what the miner submits (zero and noise show what validators do "
                    + "with a lazy or a noisy miner)")
    String submit;

    @Spec
    CommandSpec spec;

    /** The block time of an embedded chain a miner follows on its own (the real chain's). */
    private static final long LOCAL_BLOCK_TIME_MS = 12_000;

    @Override
    public Integer call() throws Exception {
        CheckpointConfig config = checkpoint.config("miner_checkpoint.pth");
        Backup backup = checkpoint.backup(config, MinerRun.PROGRESS_KEY, List.of());
        MinerRun.Settings settings = new MinerRun.Settings(training.toOptions(),
                backup == null ? config : config.withFallback(backup.fallback()), checkpoint.checkpointInterval, maxSteps,
                training.flags(spec.commandLine().getParseResult()));
        WindowMiner.Update update = switch (submit) {
            case "trained" -> WindowMiner.Update.TRAINED;
            case "zero" -> WindowMiner.Update.ZERO;
            case "noise" -> WindowMiner.Update.NOISE;
            default -> throw new IllegalArgumentException("--submit must be trained, zero or noise, got '" + submit + "'");
        };
        WindowMiner.Settings network = new WindowMiner.Settings(chain, LOCAL_BLOCK_TIME_MS,
                Path.of(submissions == null ? "submissions" : submissions), uid, validatorUid, window.blocksPerWindow,
                ValidatorConfig.DEFAULT_ASSIGNED_ROWS, update);
        LibTorch.load();
        try (WindowMiner miner = chain == null ? null : new WindowMiner(network)) {
            return Session.run(checkpoint, backup, (listener, metrics, status, stop) ->
                    MinerRun.run(settings, listener, (loop, loss, tokensPerSecond, checkpointer) -> {
                        if (miner != null) {
                            try {
                                miner.afterStep(loop, checkpointer::awaitStaging);
                            } catch (InterruptedException e) {
                                Thread.currentThread().interrupt();
                            }
                        }
                        metrics.trainingStep(loop.globalStep(), loss, tokensPerSecond);
                        status.show(String.format(Locale.ROOT, "step %d | loss %.4f | %,.0f tok/s", loop.globalStep(),
                                loss, tokensPerSecond), checkpointer.backlog());
                    }, stop, miner));
        }
    }
}
