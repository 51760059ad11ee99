package neuron.bench;

import neuron.engine.checkpoint.CheckpointLoader;
import neuron.engine.miner.MinerArguments;
import neuron.engine.miner.MinerLoop;
import neuron.engine.nativeio.LibTorch;
import neuron.engine.torch.TensorTrees;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Peak resident memory of a miner's start-up, fresh (model and AdamW allocated, not trained) or resumed from a
 * checkpoint (target: resume − fresh ≤ 0.1 × the state). One process per measurement, as the peak is the
 * process's: {@code prepare MODEL FILE} writes a checkpoint after one step, {@code fresh MODEL} and
 * {@code resume MODEL FILE} print {@code peak_rss_bytes state_bytes}. bench/resume-memory runs all three.
 */
public final class ResumeMemory {
    private ResumeMemory() {
    }

    public static void main(String[] args) throws Exception {
        LibTorch.load();
        String model = args[1];
        try (MinerLoop loop = switch (args[0]) {
            case "prepare", "fresh" -> MinerLoop.create(MinerArguments.parse("--model", model));
            case "resume" -> CheckpointLoader.load(Path.of(args[2]), "global_step",
                    stored -> MinerLoop.restore(TensorTrees.stored(stored)));
            default -> throw new IllegalArgumentException("prepare|fresh|resume, not " + args[0]);
        }) {
            if (args[0].equals("prepare")) {
                loop.step();
                TensorTrees.save(Path.of(args[2]), loop.state());
                return;
            }
            System.out.println(peakRss() + " " + MinerLoop.checkpointBytes(loop.options().model()));
        }
    }

    /** VmHWM: the process's peak resident set. */
    private static long peakRss() throws Exception {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmHWM:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
            }
        }
        throw new IllegalStateException("no VmHWM in /proc/self/status");
    }
}
