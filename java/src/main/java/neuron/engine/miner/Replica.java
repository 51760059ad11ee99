package neuron.engine.miner;

import org.bytedeco.pytorch.Tensor;

import java.util.List;

/**
 * A loop's place in a data-parallel group: which rows of every global batch are its own, which parameters it
 * updates (ZeRO-1: AdamW's moments are split across the ranks, each rank keeps and updates those of its own
 * parameters), and the exchanges a step needs. {@link #ALONE} is a process that trains by itself.
 *
 * <p>Every rank calls the methods at the same points of the same steps: they are collective where the group has
 * more than one rank.
 */
public interface Replica {
    /** A process that trains alone: every row, every parameter, nothing to exchange. */
    Replica ALONE = new Replica() {
        @Override
        public int rank() {
            return 0;
        }

        @Override
        public int ranks() {
            return 1;
        }

        @Override
        public boolean updates(int parameter) {
            return true;
        }

        @Override
        public void attach(List<Tensor> parameters, List<Tensor> values) {
        }

        @Override
        public void beforeBackward() {
        }

        @Override
        public void afterUpdate() {
        }

        @Override
        public float globalLoss(Tensor loss) {
            return loss.item_float();
        }
    };

    int rank();

    int ranks();

    /** Whether this rank updates parameter {@code parameter} (its index in the model's order) and keeps its moments. */
    boolean updates(int parameter);

    /**
     * Called once, when the model exists and before its first step: {@code parameters} are the trainable leaves
     * (their gradients are averaged over the ranks), {@code values} their detached aliases (what
     * {@link #afterUpdate()} writes).
     */
    void attach(List<Tensor> parameters, List<Tensor> values);

    /** Between the forward and the backward pass: each gradient is averaged over the ranks as the backward makes it. */
    void beforeBackward();

    /** After this rank's optimizer update: every parameter takes the value its owner computed. */
    void afterUpdate();

    /** The loss of the whole global batch from this rank's loss on its rows (the mean over the ranks). */
    float globalLoss(Tensor loss);
}
