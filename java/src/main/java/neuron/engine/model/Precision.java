package neuron.engine.model;

import neuron.engine.checkpoint.UsageException;

import org.bytedeco.pytorch.Device;

import java.util.List;

/**
 * The dtype a model computes its matrix products in. Weights, gradients and AdamW's moments stay float32 either
 * way (the master copy a checkpoint holds); {@link #BF16} casts each matmul's operands to bfloat16 and its result
 * back, as {@code torch.autocast} does, while norms, RoPE, the MLP's gating, the residual stream and the loss stay
 * float32.
 */
public enum Precision {
    FP32, BF16;

    public static final List<String> CHOICES = List.of("auto", "fp32", "bf16");

    /** {@code auto}: bf16 on CUDA, fp32 on the CPU, decided by the device, never by a measurement. */
    public static Precision resolve(String choice, Device device) {
        return switch (choice) {
            case "auto" -> device.is_cuda() ? BF16 : FP32;
            case "fp32" -> FP32;
            case "bf16" -> BF16;
            default -> throw new UsageException("unknown precision '" + choice + "'; one of " + CHOICES);
        };
    }
}
