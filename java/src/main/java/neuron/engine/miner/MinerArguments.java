package neuron.engine.miner;

import neuron.engine.checkpoint.UsageException;
import neuron.engine.model.BuiltinCorpus;
import neuron.engine.model.ModelConfig;
import picocli.CommandLine.IDefaultValueProvider;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine;

import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The miner's training options on the command line (snake_case, as the reference system's flags), as a picocli
 * mixin ({@code @Mixin MinerArguments args}) of a command whose default values come from {@link Defaults}, so that
 * help shows {@link TrainingOptions#defaults()}'s values. Which flags were given decides how a resume treats them
 * ({@link MinerFlags}).
 */
public final class MinerArguments {
    /** The flags {@code --override} may name: settings a resumed run can change without invalidating its state. */
    public static final Set<String> OVERRIDABLE = Set.of("lr", "warmup_steps", "decay_steps", "min_lr_ratio",
            "batch_size", "grad_accum", "grad_clip", "data", "seed");

    @Option(names = "--model", defaultValue = "tiny", description = "model preset: tiny, small, llama-1b (default: ${DEFAULT-VALUE})")
    String model;

    @Option(names = "--heads", paramLabel = "N",
            description = "attention heads, overriding the preset's (default: the preset's); also tells a checkpoint "
                    + "without the engine's config its head count")
    Integer heads;

    @Option(names = "--kv_heads", paramLabel = "N",
            description = "key/value heads (grouped-query attention; default: as many as the query heads); a "
                    + "checkpoint's own come from its k_proj")
    Integer kvHeads;

    @Option(names = "--data", paramLabel = "PATH", description = "text file (byte tokens), llm.c .bin token shard, or a "
            + "directory of shards (default: the built-in corpus)")
    Path data;

    @Option(names = "--device", defaultValue = "auto", description = "auto, cpu or cuda (default: ${DEFAULT-VALUE})")
    String device;

    @Option(names = "--precision", defaultValue = "auto", description = "matrix products in fp32 or bf16 (float32 "
            + "weights and AdamW state either way); auto: bf16 on CUDA, fp32 on the CPU (default: ${DEFAULT-VALUE})")
    String precision;

    @Option(names = "--seed", defaultValue = "0", description = "seed of the initial weights and of every batch (default: ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--threads", defaultValue = "1", description = "LibTorch intra-op threads; bit-exact resume needs "
            + "the same count (default: ${DEFAULT-VALUE}, the fastest on a shared small machine)")
    int threads;

    @Option(names = "--vocab", paramLabel = "N",
            description = "vocabulary size, overriding the preset's (must exceed every token id; default: the preset's)")
    Integer vocab;

    @Option(names = "--seq_len", paramLabel = "N", description = "tokens per sequence, overriding the preset's (default: the preset's)")
    Integer seqLen;

    @Option(names = "--batch_size", paramLabel = "N", description = "sequences per micro-batch")
    int batchSize;

    @Option(names = "--grad_accum", paramLabel = "N", description = "micro-batches whose gradients add up to one "
            + "optimizer step: the update of a batch N times larger")
    int gradAccum;

    @Option(names = "--lr", paramLabel = "LR", description = "peak learning rate")
    double lr;

    @Option(names = "--weight_decay", paramLabel = "WD", description = "AdamW decoupled weight decay")
    double weightDecay;

    @Option(names = "--grad_clip", paramLabel = "NORM", description = "max L2 norm of all gradients together")
    double gradClip;

    @Option(names = "--warmup_steps", paramLabel = "N", description = "linear warmup steps")
    long warmupSteps;

    @Option(names = "--decay_steps", paramLabel = "N", description = "cosine decay steps after warmup")
    long decaySteps;

    @Option(names = "--min_lr_ratio", paramLabel = "R", description = "floor of the cosine decay, as a fraction of the peak lr")
    double minLrRatio;

    @Option(names = "--override", paramLabel = "FLAG", split = ",",
            description = "on resume, let these given flags win over the checkpoint: any of lr, warmup_steps, "
                    + "decay_steps, min_lr_ratio, batch_size, grad_accum, grad_clip, data, seed (default: none; the checkpoint wins)")
    List<String> override;

    @Option(names = "--init_from", paramLabel = "DIR",
            description = "start from a Hugging Face LLaMA directory (config.json, model.safetensors) instead of "
                    + "random weights; ignored when a checkpoint is resumed (default: none)")
    Path initFrom;

    /** Default values of the training flags: {@link TrainingOptions#defaults()}, under the same names. */
    public static final class Defaults implements IDefaultValueProvider {
        private static final Map<String, Object> VALUES = TrainingOptions.defaults().toMap();

        @Override
        public String defaultValue(ArgSpec argument) {
            if (argument instanceof OptionSpec option && option.longestName().startsWith("--")) {
                Object value = VALUES.get(option.names()[0].substring(2));
                return value == null ? null : String.valueOf(value);
            }
            return null;
        }
    }

    /** What a miner command line says: its options and which flags it gave. */
    public record Parsed(MinerOptions options, MinerFlags flags) {
    }

    /** Parses miner flags alone (tests, benchmarks); bad options throw picocli's ParameterException. */
    public static Parsed command(String... args) {
        MinerArguments arguments = new MinerArguments();
        CommandLine cli = new CommandLine(arguments).setDefaultValueProvider(new Defaults());
        ParseResult result = cli.parseArgs(args);
        return new Parsed(arguments.toOptions(), arguments.flags(result));
    }

    /** The options of {@link #command}. */
    public static MinerOptions parse(String... args) {
        return command(args).options();
    }

    public MinerOptions toOptions() {
        ModelConfig config = ModelConfig.preset(model);
        config = vocab == null ? config : config.withVocab(vocab);
        config = seqLen == null ? config : config.withSeqLen(seqLen);
        config = heads == null ? config : config.withHeads(heads);
        config = kvHeads == null ? config : config.withKvHeads(kvHeads);
        TrainingOptions d = TrainingOptions.defaults();
        TrainingOptions training = new TrainingOptions(batchSize, lr, d.beta1(), d.beta2(), d.eps(), weightDecay,
                gradClip, warmupSteps, decaySteps, minLrRatio, gradAccum);
        return new MinerOptions(config, training, data == null ? BuiltinCorpus.SOURCE : data.toAbsolutePath().toString(),
                seed, device, threads, precision);
    }

    /** Which flags {@code result} (this command line's parse) holds, and what they ask of a resume. */
    public MinerFlags flags(ParseResult result) {
        Set<String> given = new LinkedHashSet<>();
        for (OptionSpec option : result.matchedOptions()) {
            given.add(option.names()[0].replaceFirst("^-+", ""));
        }
        List<String> overrides = override == null ? List.of() : override;
        for (String name : overrides) {
            if (!OVERRIDABLE.contains(name)) {
                throw new UsageException("--override " + name + ": only " + OVERRIDABLE.stream().sorted().toList()
                        + " may win over a checkpoint (the model's shape is the checkpoint's)");
            }
            if (!given.contains(name)) {
                throw new UsageException("--override " + name + " needs --" + name + " VALUE");
            }
        }
        return new MinerFlags(given, Set.copyOf(overrides), initFrom);
    }
}
