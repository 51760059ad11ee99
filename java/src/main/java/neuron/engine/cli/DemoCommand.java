package neuron.engine.cli;

import neuron.engine.api.JvmCommand;
import neuron.engine.demo.DemoFailure;
import neuron.engine.demo.DemoRun;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code neuron demo}: a small network that learns, and the engine's crash-and-resume story, in about two minutes. */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Starts a local chain, three miners (honest, lazy, noisy) and a validator as separate processes "
                + "of one network; SIGKILLs the honest miner and the validator mid-run and restarts them; shows that "
                + "each resumed from its checkpoint; stops everything gracefully; prints a summary table and draws "
                + "demo.png. Everything goes into one folder, which it names.")
final class DemoCommand implements Callable<Integer> {
    @Option(names = "--out", paramLabel = "DIR",
            description = "output folder (default: a new neuron-demo-* folder in the system's temporary directory)")
    Path out;

    @Option(names = "--duration_s", paramLabel = "S", defaultValue = "90",
            description = "seconds from the miners' start to the graceful stop; the crash comes at 40%% (default: ${DEFAULT-VALUE})")
    int durationSeconds;

    @Option(names = "--block_time_ms", paramLabel = "MS", defaultValue = "700",
            description = "the chain's block time (default: ${DEFAULT-VALUE})")
    long blockTimeMs;

    @Option(names = "--blocks_per_window", paramLabel = "N", defaultValue = "8",
            description = "the network's window length in blocks (default: ${DEFAULT-VALUE})")
    int blocksPerWindow;

    @Option(names = "--miner_checkpoint_interval", paramLabel = "N", defaultValue = "100",
            description = "the miners' --checkpoint_interval, in steps (default: ${DEFAULT-VALUE})")
    long minerCheckpointInterval;

    @Option(names = "--validator_checkpoint_interval", paramLabel = "N", defaultValue = "10",
            description = "the validator's --checkpoint_interval, in blocks (default: ${DEFAULT-VALUE})")
    long validatorCheckpointInterval;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        System.setProperty("java.awt.headless", "true");  // the picture is drawn without a display
        DemoRun.Settings settings = new DemoRun.Settings(out, durationSeconds, blockTimeMs, blocksPerWindow,
                minerCheckpointInterval, validatorCheckpointInterval, JvmCommand.of(Main.class));
        try {
            return DemoRun.run(settings, spec.commandLine().getOut());
        } catch (DemoFailure e) {
            spec.commandLine().getErr().println("neuron demo: " + e.getMessage());
            return Main.EXIT_FAILURE;
        }
    }
}
