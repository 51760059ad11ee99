package neuron.engine.cli;

import neuron.engine.backup.Backup;
import neuron.engine.backup.Companion;
import neuron.engine.chain.Follow;
import neuron.engine.checkpoint.CheckpointConfig;
import neuron.engine.journal.BlockJournal;
import neuron.engine.model.BuiltinCorpus;
import neuron.engine.model.ModelConfig;
import neuron.engine.nativeio.LibTorch;
import neuron.engine.validator.ValidatorConfig;
import neuron.engine.validator.ValidatorRun;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code neuron validator}: follows the chain, scores miners, journals every block, resumes exactly. */
@Command(name = "validator", mixinStandardHelpOptions = true,
        description = "Follow the chain, evaluate miners' submissions, keep scores and weights; resumes from the "
                + "checkpoint and replays the block journal by itself.")
final class ValidatorCommand implements Callable<Integer> {
    @Mixin
    CheckpointOptions checkpoint;

    @Option(names = {"--chain", "--subtensor.chain_endpoint"}, defaultValue = "local", description = "local | ws://HOST:PORT (default: ${DEFAULT-VALUE})")
    String chain;

    @Option(names = "--follow", defaultValue = "finalized",
            description = "finalized | best: which heads of a ws:// chain to follow; best heads come sooner and a "
                    + "reorganisation rolls the validator back (default: ${DEFAULT-VALUE})")
    String follow;

    @Option(names = "--block_time_ms", defaultValue = "12000",
            description = "block time of the embedded local chain (default: ${DEFAULT-VALUE})")
    long blockTimeMs;

    @Option(names = "--first_block", paramLabel = "N", defaultValue = "0",
            description = "the network's first block: a validator with no checkpoint starts there and catches up "
                    + "through the chain's history; -1 joins at the chain's head (default: ${DEFAULT-VALUE})")
    long firstBlock;

    @Option(names = "--until_block", paramLabel = "N", defaultValue = "0",
            description = "stop gracefully after block N (0: run until stopped)")
    long untilBlock;

    @Option(names = "--journal_dir", paramLabel = "DIR",
            description = "the block journal (default: beside the checkpoint, CHECKPOINT.journal)")
    Path journalDir;

    @Option(names = "--submissions", paramLabel = "DIR", defaultValue = "submissions",
            description = "the network's store of updates and aggregates (default: ${DEFAULT-VALUE})")
    Path submissions;

    @Option(names = "--model", defaultValue = "tiny", description = "tiny | small | llama-1b: the miners' model (default: ${DEFAULT-VALUE})")
    String model;

    @Option(names = "--device", defaultValue = "auto", description = "auto | cpu | cuda (default: ${DEFAULT-VALUE})")
    String device;

    @Option(names = "--seed", defaultValue = "0", description = "the miners' initial-weight seed (default: ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--threads", defaultValue = "1", description = "LibTorch threads (default: ${DEFAULT-VALUE})")
    int threads;

    @Option(names = "--uid", defaultValue = "0",
            description = "this validator's uid: its aggregates and weights go on the chain under it (default: ${DEFAULT-VALUE})")
    int uid;

    @Mixin
    WindowOptions window;

    @Mixin
    SubnetOptions subnet;

    @Option(names = "--weights_interval", paramLabel = "WINDOWS", defaultValue = "3",
            description = "set the weights on the chain every this many windows (default: ${DEFAULT-VALUE})")
    int weightsInterval;

    @Override
    public Integer call() throws Exception {
        CheckpointConfig config = checkpoint.config("validator_checkpoint.pth");
        ValidatorConfig validator = ValidatorConfig.of(ModelConfig.preset(model), seed, BuiltinCorpus.SOURCE,
                window.blocksPerWindow, threads);
        Path journal = journalDir != null ? journalDir : config.path().resolveSibling(config.path().getFileName() + ".journal");
        // the journal (and the submissions it archived) goes with each checkpoint: a new machine replays exactly
        Backup backup = checkpoint.backup(config, ValidatorRun.PROGRESS_KEY,
                List.of(new Companion("journal", journal, BlockJournal::belongsInCopy)));
        ValidatorRun.Settings settings = new ValidatorRun.Settings(validator, device,
                backup == null ? config : config.withFallback(backup.fallback()), checkpoint.checkpointInterval,
                untilBlock, chain, Follow.parse(follow), blockTimeMs, journal, submissions, uid,
                weightsInterval, firstBlock);
        LibTorch.load();
        return Session.run(checkpoint, backup, (listener, metrics, status, stop) ->
                ValidatorRun.run(settings, listener, (v, scored, checkpointer) -> {
                    metrics.validatorState(v.block(), v.globalStep(), v.scores(), v.weights(), v.heldOutLoss());
                    status.show(String.format(Locale.ROOT, "block %d | windows %d | miners scored %d", v.block(),
                            v.globalStep(), v.scores().size()), checkpointer.backlog());
                }, stop));
    }
}
