package neuron.engine.miner;

import neuron.engine.model.LlamaLayout;
import neuron.engine.model.ModelConfig;
import neuron.engine.pth.PyFloat;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Which wins when a run resumes, the checkpoint or a flag given on the command line, and one warning line that
 * lists every given flag that disagrees with the checkpoint and says which value is used:
 * <ul>
 * <li>the model's shape ({@code --model}, {@code --vocab}, {@code --heads}, {@code --seq_len}): the checkpoint's,
 * always: its tensors have that shape;</li>
 * <li>what the run's steps are made of ({@code --lr}, {@code --warmup_steps}, {@code --decay_steps},
 * {@code --min_lr_ratio}, {@code --batch_size}, {@code --grad_accum}, {@code --grad_clip}, {@code --data}, {@code --seed}): the
 * checkpoint's, so that a resumed run continues bit for bit as if never stopped; {@code --override FLAG} makes the
 * flag win, which leaves the state valid but makes the rest a different run;</li>
 * <li>{@code --weight_decay}: the checkpoint's, which AdamW's state carries;</li>
 * <li>the machine ({@code --device}, {@code --threads}, {@code --precision}): the flag's when given, else the
 * checkpoint's.</li>
 * </ul>
 */
final class FlagPrecedence {
    private final MinerFlags given;
    private final String source;
    private final List<String> notes = new ArrayList<>();

    private FlagPrecedence(MinerFlags given, String source) {
        this.given = given;
        this.source = source;
    }

    /** The options to resume with, and the warning line (null when every given flag agrees). */
    record Resolved(MinerOptions options, String warning) {
    }

    /** {@code source} names what {@code checkpoint} was read from in the warning, e.g. "the checkpoint". */
    static Resolved resolve(MinerOptions checkpoint, MinerOptions flags, MinerFlags given, String source) {
        FlagPrecedence p = new FlagPrecedence(given, source);
        p.model(checkpoint.model(), flags.model());
        TrainingOptions c = checkpoint.training();
        TrainingOptions f = flags.training();
        p.checkpointWins("weight_decay", f.weightDecay(), c.weightDecay(), "AdamW's state carries it");
        TrainingOptions training = new TrainingOptions(
                p.overridable("batch_size", f.batchSize(), c.batchSize()),
                p.overridable("lr", f.lr(), c.lr()),
                c.beta1(), c.beta2(), c.eps(), c.weightDecay(),
                p.overridable("grad_clip", f.gradClip(), c.gradClip()),
                p.overridable("warmup_steps", f.warmupSteps(), c.warmupSteps()),
                p.overridable("decay_steps", f.decaySteps(), c.decaySteps()),
                p.overridable("min_lr_ratio", f.minLrRatio(), c.minLrRatio()),
                p.overridable("grad_accum", f.gradAccum(), c.gradAccum()));
        MinerOptions options = new MinerOptions(checkpoint.model(), training,
                p.overridable("data", flags.data(), checkpoint.data()),
                p.overridable("seed", flags.seed(), checkpoint.seed()),
                p.machine("device", flags.device(), checkpoint.device(), ""),
                p.machine("threads", flags.threads(), checkpoint.threads(), "; bit-exact resume needs the checkpoint's"),
                p.machine("precision", flags.precision(), checkpoint.precision(), "; the weights stay float32"));
        String warning = p.notes.isEmpty() ? null
                : "flags that disagree with " + source + ": " + String.join("; ", p.notes);
        return new Resolved(options, warning);
    }

    /** --model's shape is compared where no finer flag (--vocab, --heads, --kv_heads, --seq_len) was given. */
    private void model(ModelConfig checkpoint, ModelConfig flags) {
        boolean shape = checkpoint.hidden() != flags.hidden() || checkpoint.layers() != flags.layers()
                || checkpoint.intermediate() != flags.intermediate() || checkpoint.ropeTheta() != flags.ropeTheta()
                || checkpoint.rmsEps() != flags.rmsEps()
                || !given.given("vocab") && checkpoint.vocab() != flags.vocab()
                || !given.given("heads") && checkpoint.heads() != flags.heads()
                || !given.given("kv_heads") && checkpoint.kvHeads() != flags.kvHeads()
                || !given.given("seq_len") && checkpoint.seqLen() != flags.seqLen();
        if (given.given("model") && shape) {
            notes.add("--model gives " + LlamaLayout.describe(flags) + ", seq_len " + flags.seqLen() + " (" + source
                    + ": " + LlamaLayout.describe(checkpoint) + ", seq_len " + checkpoint.seqLen() + "; " + source
                    + "'s is used: its tensors have that shape)");
        }
        checkpointWins("vocab", flags.vocab(), checkpoint.vocab(), "its tensors have that shape");
        checkpointWins("heads", flags.heads(), checkpoint.heads(), "its tensors were trained with them");
        checkpointWins("kv_heads", flags.kvHeads(), checkpoint.kvHeads(), "its k_proj and v_proj have that shape");
        checkpointWins("seq_len", flags.seqLen(), checkpoint.seqLen(), "part of the model's configuration");
    }

    private void checkpointWins(String flag, Object flagValue, Object checkpointValue, String why) {
        if (disagrees(flag, flagValue, checkpointValue)) {
            notes.add(note(flag, flagValue, checkpointValue) + source + "'s is used: " + why + ")");
        }
    }

    private <T> T overridable(String flag, T flagValue, T checkpointValue) {
        if (!disagrees(flag, flagValue, checkpointValue)) {
            return checkpointValue;
        }
        if (given.overrides(flag)) {
            notes.add(note(flag, flagValue, checkpointValue) + "the flag is used: --override " + flag + ")");
            return flagValue;
        }
        notes.add(note(flag, flagValue, checkpointValue) + source + "'s is used; --override " + flag
                + " uses the flag)");
        return checkpointValue;
    }

    private <T> T machine(String flag, T flagValue, T checkpointValue, String caveat) {
        if (!given.given(flag)) {
            return checkpointValue;
        }
        if (disagrees(flag, flagValue, checkpointValue)) {
            notes.add(note(flag, flagValue, checkpointValue) + "the flag is used" + caveat + ")");
        }
        return flagValue;
    }

    private boolean disagrees(String flag, Object flagValue, Object checkpointValue) {
        return given.given(flag) && !Objects.equals(flagValue, checkpointValue);
    }

    private String note(String flag, Object flagValue, Object checkpointValue) {
        return "--" + flag + " " + spelled(flagValue) + " (" + source + ": " + spelled(checkpointValue) + "; ";
    }

    private static String spelled(Object value) {
        return value instanceof Double d ? PyFloat.repr(d) : String.valueOf(value);
    }
}
