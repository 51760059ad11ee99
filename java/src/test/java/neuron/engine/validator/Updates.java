package neuron.engine.validator;

import neuron.engine.chain.Block;
import neuron.engine.chain.BlockEvent;
import neuron.engine.miner.MinerLoop;
import neuron.engine.miner.MinerOptions;
import neuron.engine.miner.TrainingOptions;
import neuron.engine.model.BuiltinCorpus;
import neuron.engine.model.Devices;
import neuron.engine.model.LlamaModel;
import neuron.engine.model.ModelConfig;
import neuron.engine.model.TokenData;
import neuron.engine.network.Commitment;
import neuron.engine.network.Hash32;
import neuron.engine.network.WindowData;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;

import java.nio.ByteBuffer;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.bytedeco.pytorch.global.torch.manual_seed;
import static org.bytedeco.pytorch.global.torch.randn_like;
import static org.bytedeco.pytorch.global.torch.zeros_like;

/** What miners hand a validator, made the way they make it: updates trained on assigned rows, and worse ones. */
public final class Updates {
    public static final ModelConfig TINY = ModelConfig.preset("tiny");
    private static final TrainingOptions TRAINING = new TrainingOptions(8, 3e-3, 0.9, 0.95, 1e-8, 0.1, 1.0, 0, 1000, 0.1);

    private Updates() {
    }

    /** The network's first base, B(0): the model drawn from seed 0, as CPU copies. */
    public static Map<String, Tensor> firstBase() {
        Map<String, Tensor> base = new LinkedHashMap<>();
        try (LlamaModel model = new LlamaModel(TINY, 0, Devices.resolve("cpu"));
             NoGradGuard noGrad = new NoGradGuard()) {
            model.stateDict().forEach((name, p) -> base.put(name, p.clone()));
        }
        return base;
    }

    /** An honest miner's update: {@code steps} AdamW steps from {@code base} on its assigned rows of the window. */
    public static Map<String, Tensor> trained(Map<String, Tensor> base, int uid, long window, int steps) {
        MinerOptions options = new MinerOptions(TINY, TRAINING, BuiltinCorpus.SOURCE, 0, "cpu", 1);
        try (MinerLoop loop = MinerLoop.create(options)) {
            loop.model().load(base);
            loop.useBatches(WindowData.assignedBatches(TokenData.builtin(), 0, uid, window,
                    WindowData.DEFAULT_ASSIGNED_ROWS, TINY.seqLen() + 1));
            for (int i = 0; i < steps; i++) {
                loop.step();
            }
            Map<String, Tensor> delta = new LinkedHashMap<>();
            try (NoGradGuard noGrad = new NoGradGuard()) {
                loop.model().stateDict().forEach((name, p) -> delta.put(name, p.cpu().sub(base.get(name))));
            }
            return delta;
        }
    }

    public static Map<String, Tensor> zeros(Map<String, Tensor> base) {
        Map<String, Tensor> delta = new LinkedHashMap<>();
        base.forEach((name, b) -> delta.put(name, zeros_like(b)));
        return delta;
    }

    public static Map<String, Tensor> noise(Map<String, Tensor> base, long seed) {
        manual_seed(seed);
        Map<String, Tensor> delta = new LinkedHashMap<>();
        base.forEach((name, b) -> delta.put(name, randn_like(b).mul(new Scalar(0.01))));
        return delta;
    }

    public static Commitment update(int uid, long window, Hash32 hash) {
        return new Commitment(Commitment.Kind.UPDATE, uid, window, hash);
    }

    /** Block {@code number} of a made-up chain, including {@code commitments}. */
    public static BlockEvent block(long number, List<Commitment> commitments) {
        return new BlockEvent(new Block(number, hashOf(number), number == 0 ? Hash32.ZERO : hashOf(number - 1),
                commitments), false);
    }

    private static Hash32 hashOf(long number) {
        return Hash32.sha256(ByteBuffer.allocate(8).putLong(number).array());
    }
}
