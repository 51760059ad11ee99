package neuron.engine.train;

import org.bytedeco.pytorch.Device;

import java.util.List;

import static org.bytedeco.pytorch.global.torch.cuda_is_available;

/** {@code --device auto|cpu|cuda}: auto takes CUDA when LibTorch sees a GPU. */
public final class Devices {
    public static final List<String> CHOICES = List.of("auto", "cpu", "cuda");

    private Devices() {
    }

    public static Device resolve(String choice) {
        return switch (choice) {
            case "auto" -> new Device(cuda_is_available() ? "cuda" : "cpu");
            case "cpu" -> new Device("cpu");
            case "cuda" -> {
                if (!cuda_is_available()) {
                    throw new IllegalArgumentException("--device cuda, but LibTorch sees no CUDA device");
                }
                yield new Device("cuda");
            }
            default -> throw new IllegalArgumentException("unknown device '" + choice + "'; one of " + CHOICES);
        };
    }
}
