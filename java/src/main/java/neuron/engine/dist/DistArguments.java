package neuron.engine.dist;

import neuron.engine.checkpoint.UsageException;
import picocli.CommandLine.Option;

import java.time.Duration;
import java.util.Map;

/**
 * The miner's data-parallel flags (a picocli mixin). A rank's place comes from torchrun's environment variables
 * ({@code RANK}, {@code WORLD_SIZE}, {@code LOCAL_RANK}, {@code MASTER_ADDR}, {@code MASTER_PORT}) or from the
 * flags of the same names, which win.
 */
public final class DistArguments {
    @Option(names = "--nproc", paramLabel = "N", defaultValue = "1",
            description = "start N ranks of this miner on this host, a data-parallel group (default: ${DEFAULT-VALUE})")
    int nproc;

    @Option(names = "--rank", description = "this process's rank in the group (default: $RANK, else 0)")
    Integer rank;

    @Option(names = "--world_size", description = "the number of ranks in the group (default: $WORLD_SIZE, else 1)")
    Integer worldSize;

    @Option(names = "--local_rank", description = "this rank's index on its host, its GPU (default: $LOCAL_RANK, else 0)")
    Integer localRank;

    @Option(names = "--master_addr", paramLabel = "HOST",
            description = "the host of the group's store (default: $MASTER_ADDR, else 127.0.0.1)")
    String masterAddr;

    @Option(names = "--master_port", paramLabel = "PORT",
            description = "the port of the group's store (default: $MASTER_PORT, else " + DistConfig.DEFAULT_PORT
                    + "; with --nproc, a free port)")
    Integer masterPort;

    @Option(names = "--dist_timeout", paramLabel = "SECONDS", defaultValue = "60",
            description = "how long a rank waits for the others before it gives up (default: ${DEFAULT-VALUE})")
    long timeoutSeconds;

    @Option(names = "--bucket_cap_mb", paramLabel = "MB", defaultValue = "25",
            description = "gradient bucket size for the all-reduce, as DDP's bucket_cap_mb (default: ${DEFAULT-VALUE})")
    double bucketCapMb;

    /** How many ranks to launch here; 1 means this process is itself a rank (or alone). */
    public int nproc() {
        if (nproc < 1) {
            throw new UsageException("--nproc must be at least 1, got " + nproc);
        }
        if (nproc > 1 && (rank != null || worldSize != null || localRank != null)) {
            throw new UsageException("--nproc starts ranks 0.." + (nproc - 1)
                    + " itself; leave out --rank, --world_size and --local_rank");
        }
        return nproc;
    }

    /** This process's place, from the flags, else the environment, else a process on its own. */
    public DistConfig toConfig(Map<String, String> env) {
        if (!(bucketCapMb > 0)) {
            throw new UsageException("--bucket_cap_mb must be positive, got " + bucketCapMb);
        }
        return new DistConfig(
                rank != null ? rank : intVar(env, "RANK", 0),
                worldSize != null ? worldSize : intVar(env, "WORLD_SIZE", 1),
                localRank != null ? localRank : intVar(env, "LOCAL_RANK", 0),
                masterAddr != null ? masterAddr : env.getOrDefault("MASTER_ADDR", "127.0.0.1"),
                masterPort != null ? masterPort : intVar(env, "MASTER_PORT", DistConfig.DEFAULT_PORT),
                "1".equals(env.get(DistConfig.STORE_HOSTED_ENV)),
                Duration.ofSeconds(timeoutSeconds),
                (long) (bucketCapMb * (1 << 20)));
    }

    /** The port the launcher's store takes: the one given, else any free one. */
    int launcherPort(Map<String, String> env) {
        return masterPort != null ? masterPort : intVar(env, "MASTER_PORT", 0);
    }

    private static int intVar(Map<String, String> env, String name, int fallback) {
        String value = env.get(name);
        if (value == null || value.isBlank()) {
            return fallback;
        }
        try {
            return Integer.parseInt(value.trim());
        } catch (NumberFormatException e) {
            throw new UsageException("environment variable " + name + "='" + value + "' is not a number");
        }
    }
}
