package neuron.engine.cli;

import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** A neuron's place on a Bittensor network, spelled as Bittensor spells it: its wallet hotkey and its subnet. */
final class SubnetOptions {
    @Mixin
    WalletOptions wallet;

    @Option(names = "--netuid", paramLabel = "N", defaultValue = "1",
            description = "the subnet the neuron serves; the embedded chain's is 1 (default: ${DEFAULT-VALUE})")
    int netuid;
}
