package neuron.engine.miner;

import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;

import java.util.Collection;

import static org.bytedeco.pytorch.global.torch.clamp_max;
import static org.bytedeco.pytorch.global.torch.linalg_vector_norm;
import static org.bytedeco.pytorch.global.torch.stack;

/** {@code torch.nn.utils.clip_grad_norm_} with the L2 norm; call inside a {@code PointerScope}. */
final class GradientClipping {
    private GradientClipping() {
    }

    /**
     * Scales every gradient by min(1, maxNorm / (‖g‖ + 1e-6)), where ‖g‖ is the L2 norm of all gradients together
     * (the norm of the per-tensor norms, as torch computes it). No host synchronisation: the factor stays a tensor.
     */
    static void clip(Collection<Tensor> parameters, double maxNorm) {
        TensorVector norms = new TensorVector();
        TensorVector grads = new TensorVector();
        for (Tensor p : parameters) {
            Tensor grad = p.grad();
            if (grad.defined()) {
                grads.push_back(grad);
                norms.push_back(linalg_vector_norm(grad));
            }
        }
        if (grads.empty()) {
            return;
        }
        Tensor total = linalg_vector_norm(stack(norms));
        // torch writes max_norm / (total + 1e-6), which Tensor.__rtruediv__ evaluates as reciprocal() * max_norm
        Tensor factor = clamp_max(total.add(new Scalar(1e-6)).reciprocal().mul(new Scalar(maxNorm)), new Scalar(1.0));
        for (long i = 0; i < grads.size(); i++) {
            grads.get(i).mul_(factor);
        }
    }
}
