package neuron.engine.model;

import neuron.engine.nativeio.LibTorch;
import neuron.engine.testing.NeuronProcess;
import neuron.engine.testing.Slow;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.bytedeco.pytorch.global.torch.cuda_is_available;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

/** Without a GPU, --device auto trains on the CPU and says why in one line; --device cuda is a usage error. */
@Slow
class DevicesTest {
    @TempDir
    Path dir;

    @Test
    void withoutAGpuAutoTrainsOnTheCpuAndCudaExitsTwo() throws Exception {
        LibTorch.load();
        assumeFalse(cuda_is_available(), "this machine has a GPU: the fallback is not taken");
        String reason = Devices.whyNoCuda();

        NeuronProcess auto = miner("auto");
        assertEquals(0, auto.await(300), auto.log());
        assertEquals(1, auto.log().lines().filter(l -> l.contains("--device auto: training on the CPU, " + reason)).count(),
                auto.log());

        NeuronProcess cuda = miner("cuda");
        assertEquals(2, cuda.await(300), cuda.log());
        assertEquals(1, cuda.log().lines().filter(l -> l.contains("--device cuda, but LibTorch sees no CUDA device: "
                + reason)).count(), cuda.log());
        assertTrue(cuda.log().lines().noneMatch(l -> l.startsWith("\tat ")), "no stack trace: " + cuda.log());
    }

    private NeuronProcess miner(String device) throws Exception {
        return NeuronProcess.start(dir, dir.resolve(device + ".log"), "miner", "--device", device, "--max_steps", "2",
                "--batch_size", "2", "--seq_len", "16", "--checkpoint_path", dir.resolve(device + ".pth").toString(),
                "--staging_dir", dir.resolve(device + "-staging").toString());
    }
}
