package neuron.engine.nativeio;

import org.bytedeco.javacpp.Loader;
import org.bytedeco.pytorch.global.torch;

import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * Loads the LibTorch bundled with the presets, and only that one.
 *
 * <p>With an empty JavaCPP cache the loader extracts {@code libtorch.so} before {@code libtorch_cpu.so}; the
 * dynamic linker then resolves the missing one to a system copy (Debian's libtorch 1.13, installed with
 * python3-torch) and the JVM dies with SIGSEGV. Extracting the whole platform directory first makes every
 * {@code NEEDED} entry resolve inside the cache. Call {@link #load()} before touching any
 * {@code org.bytedeco.pytorch} class.
 */
public final class LibTorch {
    private static volatile boolean loaded;

    private LibTorch() {
    }

    public static void load() {
        if (loaded) {
            return;
        }
        synchronized (LibTorch.class) {
            if (loaded) {
                return;
            }
            try {
                // The CPU build's natives are in <platform>/, the CUDA build's (mvn -Pgpu) in <platform>-gpu/.
                for (String natives : new String[] {Loader.getPlatform(), Loader.getPlatform() + "-gpu"}) {
                    Loader.cacheResources("/org/bytedeco/pytorch/" + natives + "/");
                }
            } catch (IOException e) {
                throw new UncheckedIOException("cannot extract the bundled LibTorch into the JavaCPP cache", e);
            }
            Loader.load(torch.class);
            loaded = true;
        }
    }
}
