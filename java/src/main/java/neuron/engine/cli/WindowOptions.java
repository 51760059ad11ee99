package neuron.engine.cli;

import neuron.engine.network.WindowSchedule;
import picocli.CommandLine.Option;

/** The window length a network's miners and validators share. */
final class WindowOptions {
    @Option(names = "--blocks_per_window", paramLabel = "N", defaultValue = "" + WindowSchedule.DEFAULT_BLOCKS_PER_WINDOW,
            description = "the network's window length in blocks: the same on its every miner and validator "
                    + "(default: ${DEFAULT-VALUE})")
    int blocksPerWindow;
}
