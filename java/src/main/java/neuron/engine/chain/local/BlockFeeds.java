package neuron.engine.chain.local;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.List;
import neuron.engine.chain.Block;
import neuron.engine.chain.BlockFeed;
import neuron.engine.chain.ChainFollower;
import neuron.engine.chain.ChainSource;
import neuron.engine.chain.Follow;
import neuron.engine.chain.WsChainClient;
import neuron.engine.checkpoint.UsageException;
import neuron.engine.network.WindowChain;

/** Opens the block feed a {@code --chain} flag names. */
public final class BlockFeeds {
    public static final String LOCAL = "local";

    private BlockFeeds() {
    }

    /**
     * @param chainSpec {@code local} (the embedded chain) or {@code ws://HOST:PORT} / {@code wss://…} (a Substrate node
     *     or {@code bin/neuron chain})
     * @param blockTimeMs the embedded chain's block time; a remote chain has its own
     * @param resumeAfter the last block already seen (the journal's last block), or null to start at the head; the
     *     embedded chain then starts right after it, with the same hashes as before since they depend on the seed only
     * @throws UsageException for any other spec, with a message naming what is accepted
     */
    public static BlockFeed open(String chainSpec, long blockTimeMs, Block resumeAfter) {
        return open(chainSpec, blockTimeMs, Follow.FINALIZED, resumeAfter == null ? List.of() : List.of(resumeAfter));
    }

    /**
     * @param follow which heads a remote chain is followed by (the embedded chain is followed by its head: it never
     *     reorganises but for tests)
     * @param recent the blocks already seen, oldest first (the journal's last canonical blocks): the feed resumes
     *     after the last and can roll back to any of them; empty to start at the head
     */
    public static BlockFeed open(String chainSpec, long blockTimeMs, Follow follow, List<Block> recent) {
        return connect(chainSpec, blockTimeMs, follow, recent, -1).feed();
    }

    /** A feed and the window protocol's calls over one connection; closing the feed closes the connection. */
    public record Connection(BlockFeed feed, WindowChain window) implements AutoCloseable {
        @Override
        public void close() {
            feed.close();
        }
    }

    /**
     * As {@link #open(String, long, Follow, List)}, with the window protocol's calls on the same chain; without
     * {@code recent} blocks the feed starts at block {@code firstNumber}, or at the head when it is -1.
     */
    public static Connection connect(String chainSpec, long blockTimeMs, Follow follow, List<Block> recent,
                                     long firstNumber) {
        if (LOCAL.equals(chainSpec)) {
            // the embedded chain starts with the feed: its head then is its first block, which a fresh feed takes
            long first = !recent.isEmpty() ? recent.get(recent.size() - 1).number() + 1 : Math.max(0, firstNumber);
            return follow(new LocalChain(LocalChain.DEFAULT_SEED, blockTimeMs, first), recent, first);
        }
        return follow(WsChainClient.open(uriOf(chainSpec), follow), recent, firstNumber);
    }

    private static <S extends ChainSource & WindowChain> Connection follow(S source, List<Block> recent, long first) {
        return new Connection(new ChainFollower(source, recent, first), source);
    }

    private static URI uriOf(String chainSpec) {
        if (chainSpec != null && (chainSpec.startsWith("ws://") || chainSpec.startsWith("wss://"))) {
            URI uri;
            try {
                uri = new URI(chainSpec);
            } catch (URISyntaxException e) {
                throw new UsageException("--chain " + chainSpec + " is not a valid URL: " + e.getMessage(), e);
            }
            if (uri.getHost() == null || uri.getPort() < 0) {
                throw new UsageException("--chain " + chainSpec + " needs a host and a port: ws://HOST:PORT");
            }
            return uri;
        }
        throw new UsageException("--chain must be 'local' or ws://HOST:PORT (or wss://), got '" + chainSpec + "'");
    }
}
