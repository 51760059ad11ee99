package neuron.engine.model;

import neuron.engine.checkpoint.UsageException;
import neuron.engine.nativeio.NativeCuda;
import neuron.engine.nativeio.NativeMemory;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.global.torch_cuda;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;

import static org.bytedeco.pytorch.global.torch.cuda_is_available;

/** {@code --device auto|cpu|cuda}: auto takes CUDA when LibTorch sees a GPU, and says why when it does not. */
public final class Devices {
    private static final Logger log = LoggerFactory.getLogger(Devices.class);

    public static final List<String> CHOICES = List.of("auto", "cpu", "cuda");

    private Devices() {
    }

    public static Device resolve(String choice) {
        return switch (choice) {
            case "auto" -> {
                if (cuda_is_available()) {
                    yield new Device("cuda");
                }
                log.info("--device auto: training on the CPU, {}", whyNoCuda());
                yield new Device("cpu");
            }
            case "cpu" -> new Device("cpu");
            case "cuda" -> {
                if (!cuda_is_available()) {
                    throw new UsageException("--device cuda, but LibTorch sees no CUDA device: " + whyNoCuda());
                }
                yield new Device("cuda");
            }
            default -> throw new UsageException("unknown device '" + choice + "'; one of " + CHOICES);
        };
    }

    /** Why LibTorch has no CUDA device here, in words a user can act on. */
    static String whyNoCuda() {
        int code = NativeCuda.nn_cuda_available();
        if (code == NativeCuda.NOT_BUILT) {
            return "this is the CPU build (mvn -Pgpu package builds the CUDA one)";
        }
        if (code != 1) {
            return "no CUDA device (" + (code == 0 ? "the CUDA runtime reports none" : NativeMemory.describe(code)) + ")";
        }
        try {
            Loader.load(torch_cuda.class);
            return "a CUDA device is visible, yet LibTorch reports none";
        } catch (UnsatisfiedLinkError e) {
            return "a CUDA device is visible but LibTorch's CUDA libraries did not load (cuBLAS, cuDNN, cuSOLVER, "
                    + "cuSPARSE and NCCL come from the machine: /usr/local/cuda/lib64 or LD_LIBRARY_PATH): "
                    + e.getMessage();
        }
    }
}
