package neuron.engine.train;

import picocli.CommandLine;
import picocli.CommandLine.Option;

import java.nio.file.Path;

/**
 * The miner's training options on the command line (snake_case, as the reference system's flags), as a picocli mixin ({@code @Mixin MinerArguments args}); an option left
 * out keeps the preset's or {@link TrainingOptions#defaults()}'s value.
 */
public final class MinerArguments {
    @Option(names = "--model", defaultValue = "tiny", description = "model preset: tiny, small, llama-1b (default ${DEFAULT-VALUE})")
    String model;

    @Option(names = "--data", description = "text file (byte tokens), llm.c .bin token shard, or a directory of shards; default: the built-in corpus")
    Path data;

    @Option(names = "--device", defaultValue = "auto", description = "auto, cpu or cuda (default ${DEFAULT-VALUE})")
    String device;

    @Option(names = "--seed", defaultValue = "0", description = "seed of the initial weights and of every batch")
    long seed;

    @Option(names = "--threads", description = "LibTorch intra-op threads; bit-exact resume needs the same count (default: 1, the fastest on a shared small machine)")
    Integer threads;

    @Option(names = "--vocab", description = "vocabulary size, overriding the preset's (must exceed every token id)")
    Integer vocab;

    @Option(names = "--seq_len", description = "tokens per sequence, overriding the preset's")
    Integer seqLen;

    @Option(names = "--batch_size", description = "sequences per step")
    Integer batchSize;

    @Option(names = "--lr", description = "peak learning rate")
    Double lr;

    @Option(names = "--weight_decay", description = "AdamW decoupled weight decay")
    Double weightDecay;

    @Option(names = "--grad_clip", description = "max L2 norm of all gradients together")
    Double gradClip;

    @Option(names = "--warmup_steps", description = "linear warmup steps")
    Long warmupSteps;

    @Option(names = "--decay_steps", description = "cosine decay steps after warmup")
    Long decaySteps;

    @Option(names = "--min_lr_ratio", description = "floor of the cosine decay, as a fraction of the peak lr")
    Double minLrRatio;

    /** Parses miner options alone (tests, benchmarks); bad options throw picocli's ParameterException. */
    public static MinerOptions parse(String... args) {
        return CommandLine.populateCommand(new MinerArguments(), args).toOptions();
    }

    public MinerOptions toOptions() {
        ModelConfig config = ModelConfig.preset(model);
        config = vocab == null ? config : config.withVocab(vocab);
        config = seqLen == null ? config : config.withSeqLen(seqLen);
        TrainingOptions d = TrainingOptions.defaults();
        TrainingOptions training = new TrainingOptions(
                batchSize == null ? d.batchSize() : batchSize,
                lr == null ? d.lr() : lr,
                d.beta1(), d.beta2(), d.eps(),
                weightDecay == null ? d.weightDecay() : weightDecay,
                gradClip == null ? d.gradClip() : gradClip,
                warmupSteps == null ? d.warmupSteps() : warmupSteps,
                decaySteps == null ? d.decaySteps() : decaySteps,
                minLrRatio == null ? d.minLrRatio() : minLrRatio);
        return new MinerOptions(config, training, data == null ? BuiltinCorpus.SOURCE : data.toAbsolutePath().toString(),
                seed, device, threads == null ? 1 : threads);
    }
}
