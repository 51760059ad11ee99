package neuron.engine.cli;

import neuron.engine.api.JvmCommand;
import neuron.engine.api.NeuronCheckpoints;
import neuron.engine.backup.Backup;
import neuron.engine.checkpoint.CheckpointConfig;
import neuron.engine.checkpoint.CheckpointListener;
import neuron.engine.checkpoint.UsageException;
import neuron.engine.dist.DistArguments;
import neuron.engine.dist.DistConfig;
import neuron.engine.dist.LocalLauncher;
import neuron.engine.dist.MinerGroupRun;
import neuron.engine.miner.MinerArguments;
import neuron.engine.miner.MinerLoop;
import neuron.engine.miner.MinerRun;
import neuron.engine.miner.WindowMiner;
import neuron.engine.nativeio.LibTorch;
import neuron.engine.network.WindowData;
import neuron.engine.network.WindowSchedule;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.function.BooleanSupplier;

/** {@code neuron miner}: trains, checkpoints asynchronously, resumes from its checkpoint with no flag. */
@Command(name = "miner", mixinStandardHelpOptions = true, defaultValueProvider = MinerArguments.Defaults.class,
        description = "Train a LLaMA-style model, checkpointing asynchronously; resumes from the checkpoint by itself "
                + "(the engine's, or one the Python miner wrote).")
final class MinerCommand implements Callable<Integer> {
    @Mixin
    CheckpointOptions checkpoint;

    @Mixin
    MinerArguments training;

    @Mixin
    DistArguments dist;

    @Option(names = "--max_steps", paramLabel = "N", defaultValue = "0",
            description = "stop gracefully once global_step reaches N (0: run until stopped)")
    long maxSteps;

    @Option(names = {"--chain", "--subtensor.chain_endpoint"}, description = "take part in a network: follow its base model, train on the rows "
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

    @Mixin
    SubnetOptions subnet;

    @Option(names = "--submit", defaultValue = "trained", hidden = true,
            description = "trained | zero | noise: what the miner submits (zero and noise show what validators do "
                    + "with a lazy or a noisy miner)")
    String submit;

    @Option(names = "--peak_gflops", paramLabel = "GFLOPS", description = "the matmul rate the status line's and "
            + "metrics' model FLOPs utilisation (MFU) is measured against; default: measured once before the first "
            + "step, the best of 10 LibTorch float32 linears of the model's MLP shape on --threads threads (CPU only; "
            + "on CUDA MFU shows only with this flag). It decides nothing else")
    Double peakGflops;

    @Spec
    CommandSpec spec;

    /** The block time of an embedded chain a miner follows on its own (the real chain's). */
    private static final long LOCAL_BLOCK_TIME_MS = 12_000;

    @Override
    public Integer call() throws Exception {
        int nproc = dist.nproc();
        if (nproc > 1 && chain != null) {
            throw new UsageException("--chain trains from the network's base on the rows each window assigns, "
                    + "in one process: drop --nproc to take part in a network");
        }
        if (nproc > 1) {
            return LocalLauncher.run(nproc, dist, JvmCommand.of(Main.class), spec.name(), rankArguments());
        }
        DistConfig place = dist.toConfig(System.getenv());
        if (place.distributed() && checkpoint.backup != null) {
            throw new UsageException("--backup uploads one checkpoint file, and a data-parallel group's "
                    + "checkpoint is sharded: back up 'neuron merge''s file instead");
        }
        if (place.distributed() && chain != null) {
            throw new UsageException("--chain trains from the network's base on the rows each window assigns, "
                    + "in one process: drop --nproc (or the rank's environment) to take part in a network");
        }
        if (place.rank() > 0) {
            // rank 0 speaks for the group: metrics and CSV rows are the same on every rank
            checkpoint.metricsPort = null;
            checkpoint.metricsCsv = null;
        }
        CheckpointConfig config = checkpoint.config("miner_checkpoint.pth");
        Backup backup = checkpoint.backup(config, MinerRun.PROGRESS_KEY, List.of());
        MinerRun.Settings settings = new MinerRun.Settings(training.toOptions(),
                backup == null ? config : config.withFallback(backup.fallback()), checkpoint.checkpointInterval, maxSteps,
                training.flags(spec.commandLine().getParseResult()));
        WindowMiner.Update update = switch (submit) {
            case "trained" -> WindowMiner.Update.TRAINED;
            case "zero" -> WindowMiner.Update.ZERO;
            case "noise" -> WindowMiner.Update.NOISE;
            default -> throw new UsageException("--submit must be trained, zero or noise, got '" + submit + "'");
        };
        WindowMiner.Settings network = new WindowMiner.Settings(chain, LOCAL_BLOCK_TIME_MS,
                Path.of(submissions == null ? "submissions" : submissions), uid, validatorUid,
                WindowSchedule.of(window.blocksPerWindow), WindowData.DEFAULT_ASSIGNED_ROWS, update);
        Utilisation utilisation = new Utilisation(peakGflops);
        LibTorch.load();
        try (WindowMiner miner = chain == null ? null : new WindowMiner(network)) {
            return Session.run(checkpoint, backup, (listener, metrics, status, stop) ->
                    run(settings, place, miner, listener, new MinerRun.StepObserver() {
                        @Override
                        public void started(MinerLoop loop) {
                            utilisation.start(loop);
                        }

                        @Override
                        public void stepDone(MinerLoop loop, float loss, double tokensPerSecond,
                                             NeuronCheckpoints checkpointer) {
                            if (miner != null) {
                                try {
                                    miner.afterStep(loop, checkpointer::awaitStaging);
                                } catch (InterruptedException e) {
                                    Thread.currentThread().interrupt();
                                }
                            }
                            double mfu = utilisation.of(tokensPerSecond);
                            metrics.trainingStep(loop.globalStep(), loss, tokensPerSecond, mfu);
                            status.show(progress(loop.globalStep(), loss, tokensPerSecond, mfu), checkpointer.backlog());
                        }
                    }, stop));
        }
    }

    /** The status line's progress: step, loss, tokens/s and model FLOPs utilisation ("-" until there is a rate). */
    static String progress(long step, double loss, double tokensPerSecond, double mfu) {
        return String.format(Locale.ROOT, "step %d | loss %.4f | %,.0f tok/s | MFU %s", step, loss, tokensPerSecond,
                tokensPerSecond > 0 && Double.isFinite(mfu) ? String.format(Locale.ROOT, "%.1f%%", 100 * mfu) : "-");
    }

    /** A miner in a network trains on its own (its window state is one process's); otherwise alone or as a rank. */
    private static long run(MinerRun.Settings settings, DistConfig place, WindowMiner miner, CheckpointListener listener,
                            MinerRun.StepObserver observer, BooleanSupplier stop) throws Exception {
        return miner != null ? MinerRun.run(settings, listener, observer, stop, miner)
                : MinerGroupRun.run(settings, place, listener, observer, stop);
    }

    /** This command's arguments for each rank: the same, without {@code --nproc}. */
    private List<String> rankArguments() {
        List<String> args = new ArrayList<>();
        List<String> original = spec.commandLine().getParseResult().originalArgs();
        for (int i = 0; i < original.size(); i++) {
            String a = original.get(i);
            if (a.equals("--nproc")) {
                i++;
            } else if (!a.startsWith("--nproc=") && !(i == 0 && a.equals(spec.name()))) {
                args.add(a);
            }
        }
        return args;
    }
}
