package neuron.engine.network;

import java.time.Duration;
import java.util.Optional;
import java.util.SortedMap;

/**
 * The window protocol's calls to a chain, besides following its blocks: commit a file's hash for a window, set a
 * validator's weights, read them back. The embedded {@code LocalChain} answers them itself; a remote chain over
 * JSON-RPC ({@code WsChainClient}, served by {@code ChainServer}).
 */
public interface WindowChain {

    /** The newest block known, or -1 while none is. */
    long head();

    /** Waits until {@link #head()} is at least {@code number} or the timeout passes; true if it got there. */
    boolean awaitHead(long number, Duration timeout) throws InterruptedException;

    /** Submits a commitment; the chain includes it in its next block. */
    void commit(Commitment commitment) throws ChainUnavailableException, InterruptedException;

    /** Sets {@code validatorUid}'s weights (u16 values summing to 65535); the next block includes them. */
    void setWeights(int validatorUid, SortedMap<Integer, Integer> values)
            throws ChainUnavailableException, InterruptedException;

    /** The weights {@code validatorUid} set last, as of the chain's head; empty if it never set any. */
    Optional<ChainWeights> weights(int validatorUid) throws ChainUnavailableException, InterruptedException;
}
