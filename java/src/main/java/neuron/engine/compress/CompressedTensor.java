package neuron.engine.compress;

import org.bytedeco.pytorch.Tensor;

/**
 * One tensor in the sparse format: its shape, the settings it was made with, the kept positions
 * ({@link BitPacking packed} 12-bit indices, uint8), their quantization codes (packed, uint8) and the lookup table
 * that maps a code to its float32 value. Closing it frees the three tensors.
 */
public record CompressedTensor(long[] shape, CodecSettings settings, Tensor indices, Tensor codes, Tensor lut)
        implements AutoCloseable {
    /** Bytes on the wire: the three tensors' data. */
    public long bytes() {
        return indices.numel() + codes.numel() + lut.numel() * Float.BYTES;
    }

    @Override
    public void close() {
        indices.close();
        codes.close();
        lut.close();
    }
}
