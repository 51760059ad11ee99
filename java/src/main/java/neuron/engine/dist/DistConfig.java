package neuron.engine.dist;

import neuron.engine.checkpoint.UsageException;

import java.time.Duration;
import java.util.Map;

/**
 * Where a rank stands in its group and how it reaches the others, with torchrun's names: {@code RANK},
 * {@code WORLD_SIZE}, {@code LOCAL_RANK}, {@code MASTER_ADDR}, {@code MASTER_PORT}.
 *
 * @param storeHosted the launcher serves the group's store, so rank 0 connects to it like every other rank
 *                    (otherwise rank 0 serves it, as {@code torch.distributed}'s {@code env://} does)
 * @param timeout     how long a rank waits for the others (joining, a collective, the store) before it gives up
 * @param bucketBytes the gradient bucket size ({@code bucket_cap_mb} of PyTorch's DDP)
 */
public record DistConfig(int rank, int worldSize, int localRank, String masterAddr, int masterPort,
                         boolean storeHosted, Duration timeout, long bucketBytes) {
    /** Set by the launcher in its ranks' environment: it serves the store. */
    static final String STORE_HOSTED_ENV = "NEURON_STORE_HOSTED";
    public static final int DEFAULT_PORT = 29500;

    public DistConfig {
        if (worldSize < 1) {
            throw new UsageException("WORLD_SIZE (--world_size) must be at least 1, got " + worldSize);
        }
        if (rank < 0 || rank >= worldSize) {
            throw new UsageException("RANK (--rank) must lie in 0.." + (worldSize - 1) + ", got " + rank);
        }
        if (localRank < 0) {
            throw new UsageException("LOCAL_RANK (--local_rank) must be 0 or more, got " + localRank);
        }
        if (masterPort < 1 || masterPort > 65535) {
            throw new UsageException("MASTER_PORT (--master_port) must be 1..65535, got " + masterPort);
        }
        if (masterAddr == null || masterAddr.isBlank()) {
            throw new UsageException("MASTER_ADDR (--master_addr) must name the host of rank 0");
        }
        if (timeout.isNegative() || timeout.isZero()) {
            throw new UsageException("--dist_timeout must be positive, got " + timeout.toSeconds() + " s");
        }
        if (bucketBytes < 1) {
            throw new UsageException("--bucket_cap_mb must be positive");
        }
    }

    /** A process on its own. */
    public static DistConfig alone() {
        return new DistConfig(0, 1, 0, "127.0.0.1", DEFAULT_PORT, false, Duration.ofSeconds(60), 25L << 20);
    }

    public boolean distributed() {
        return worldSize > 1;
    }

    /** "rank 1 of 3", as log lines name a rank. */
    public String describe() {
        return "rank " + rank + " of " + worldSize;
    }

    /** torchrun's variables for rank {@code rank} of this group on this host, for a launcher's children. */
    Map<String, String> environment(int childRank, int childLocalRank) {
        return Map.of("RANK", Integer.toString(childRank), "WORLD_SIZE", Integer.toString(worldSize),
                "LOCAL_RANK", Integer.toString(childLocalRank), "MASTER_ADDR", masterAddr,
                "MASTER_PORT", Integer.toString(masterPort), STORE_HOSTED_ENV, "1");
    }
}
