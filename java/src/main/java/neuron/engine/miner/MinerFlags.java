package neuron.engine.miner;

import java.nio.file.Path;
import java.util.Set;

/**
 * What a miner's command line says beyond its {@link MinerOptions}: which flags were given (names without dashes,
 * e.g. {@code lr}), which of them {@code --override} lets win over a resumed checkpoint, and an {@code --init_from}
 * directory (null for none).
 */
public record MinerFlags(Set<String> given, Set<String> overrides, Path initFrom) {
    public MinerFlags {
        given = Set.copyOf(given);
        overrides = Set.copyOf(overrides);
    }

    /** No flag given: what tests, benchmarks and embedders that build {@link MinerOptions} themselves pass. */
    public static MinerFlags none() {
        return new MinerFlags(Set.of(), Set.of(), null);
    }

    public boolean given(String flag) {
        return given.contains(flag);
    }

    public boolean overrides(String flag) {
        return overrides.contains(flag);
    }
}
