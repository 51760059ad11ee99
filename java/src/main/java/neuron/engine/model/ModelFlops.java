package neuron.engine.model;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;

import static org.bytedeco.pytorch.global.torch.ScalarType;
import static org.bytedeco.pytorch.global.torch.linear;
import static org.bytedeco.pytorch.global.torch.randn;

/**
 * The model FLOPs of training and the matmul rate that model FLOPs utilisation (MFU) is measured against: the
 * ratio of the two is what the miner's status line and metrics and the throughput benchmark report.
 */
public final class ModelFlops {
    private ModelFlops() {
    }

    /**
     * Training FLOPs per token: 6 per weight of every matrix product (forward 2, backward 4) plus causal
     * attention's q·kᵀ and weights·v (6 × layers × seq × hidden, half of the full square), as PaLM's appendix counts.
     */
    public static double perToken(ModelConfig c) {
        double matmulWeights = c.parameterCount() - (double) c.vocab() * c.hidden()   // the embedding is a lookup
                + (c.tiedEmbeddings() ? (double) c.vocab() * c.hidden() : 0)          // unless it is also the head
                - (2.0 * c.layers() + 1) * c.hidden();                                // norms
        return 6 * matmulWeights + 6.0 * c.layers() * c.seqLen() * c.hidden();
    }

    /**
     * The best FLOP/s of {@code reps} CPU runs of linear((tokens, hidden), (intermediate, hidden)) in {@code dtype},
     * on the calling thread's LibTorch intra-op thread count.
     */
    public static double bestLinearRate(ModelConfig c, long tokens, ScalarType dtype, int reps) {
        try (PointerScope scope = new PointerScope()) {
            TensorOptions options = new TensorOptions(dtype);
            Tensor x = randn(new long[]{tokens, c.hidden()}, options);
            Tensor w = randn(new long[]{c.intermediate(), c.hidden()}, options);
            double best = Double.MAX_VALUE;
            for (int i = 0; i < reps; i++) {
                long start = System.nanoTime();
                linear(x, w).close();
                best = Math.min(best, (System.nanoTime() - start) / 1e9);
            }
            return 2.0 * tokens * c.hidden() * c.intermediate() / best;
        }
    }
}
