package neuron.engine.cli;

import neuron.engine.nativeio.LibTorch;
import neuron.engine.train.MinerOptions;
import neuron.engine.train.MinerRun;
import neuron.engine.train.ModelConfig;
import neuron.engine.train.TrainingOptions;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code neuron miner}: trains, checkpoints asynchronously, resumes from its checkpoint with no flag. */
@Command(name = "miner", mixinStandardHelpOptions = true,
        description = "Train a LLaMA-style model, checkpointing asynchronously; resumes from the checkpoint by itself.")
final class MinerCommand implements Callable<Integer> {
    @Mixin
    CheckpointOptions checkpoint;

    @Option(names = "--model", defaultValue = "tiny", description = "tiny | small | llama-1b (default: ${DEFAULT-VALUE})")
    String model;

    @Option(names = "--device", defaultValue = "auto", description = "auto | cpu | cuda (default: ${DEFAULT-VALUE})")
    String device;

    @Option(names = "--seed", defaultValue = "0", description = "seed of weights and batches (default: ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--data", paramLabel = "PATH",
            description = "text files (byte tokens) or llm.c .bin token shards; default: the built-in corpus")
    String data;

    @Option(names = "--batch_size", description = "sequences per step (default: the preset's)")
    Integer batchSize;

    @Option(names = "--seq_len", description = "tokens per sequence (default: the preset's)")
    Integer seqLen;

    @Option(names = "--lr", description = "peak learning rate (default: ${DEFAULT-VALUE})", defaultValue = "1e-3")
    double lr;

    @Option(names = "--warmup_steps", description = "linear warmup steps (default: ${DEFAULT-VALUE})", defaultValue = "100")
    long warmupSteps;

    @Option(names = "--max_steps", paramLabel = "N", defaultValue = "0",
            description = "stop gracefully once global_step reaches N (0: run until stopped)")
    long maxSteps;

    @Option(names = "--chain", description = "follow a chain and publish updates: local | ws://HOST:PORT")
    String chain;

    @Option(names = "--submissions", paramLabel = "DIR", description = "where the miner publishes its window updates")
    String submissions;

    @Option(names = "--uid", defaultValue = "0", description = "this miner's uid (default: ${DEFAULT-VALUE})")
    int uid;

    @Override
    public Integer call() throws Exception {
        MinerRun.Settings settings = new MinerRun.Settings(options(), checkpoint.config("miner_checkpoint.pth"),
                checkpoint.checkpointInterval, maxSteps);
        LibTorch.load();
        return Session.run(checkpoint.metricsPort, (listener, metrics, status, stop) -> {
            MinerRun.run(settings, listener, (step, loss, tokensPerSecond, checkpointer) -> {
                metrics.trainingStep(step, loss, tokensPerSecond);
                status.show(String.format(Locale.ROOT, "step %d | loss %.4f | %,.0f tok/s", step, loss,
                        tokensPerSecond), checkpointer.backlog());
            }, stop);
        });
    }

    private MinerOptions options() {
        if (!ModelConfig.PRESETS.contains(model)) {
            throw new IllegalArgumentException("--model must be one of " + String.join(", ", ModelConfig.PRESETS)
                    + ", got '" + model + "'");
        }
        MinerOptions options = MinerOptions.preset(model).withSeed(seed).withDevice(device);
        ModelConfig config = options.model();
        if (seqLen != null) {
            config = config.withSeqLen(seqLen);
        }
        TrainingOptions training = options.training();
        if (batchSize != null) {
            training = training.withBatchSize(batchSize);
        }
        training = training.withSchedule(lr, warmupSteps, training.decaySteps(), training.minLrRatio());
        options = options.withModel(config).withTraining(training);
        return data == null ? options : options.withData(data);
    }
}
