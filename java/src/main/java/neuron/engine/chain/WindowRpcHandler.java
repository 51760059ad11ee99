package neuron.engine.chain;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.NullNode;

import java.util.Set;

/** The chain server's side of {@link WindowRpc}: the window protocol's methods, answered by the local chain. */
final class WindowRpcHandler {
    static final Set<String> METHODS = Set.of(WindowRpc.COMMIT, WindowRpc.COMMITMENTS, WindowRpc.SET_WEIGHTS,
            WindowRpc.WEIGHTS);

    private final LocalChain chain;

    WindowRpcHandler(LocalChain chain) {
        this.chain = chain;
    }

    /**
     * The result of {@code method} (one of {@link #METHODS}); IllegalArgumentException with a message fit for the
     * client when the parameters are wrong, ChainUnavailableException when the chain cannot take the call now.
     */
    JsonNode handle(String method, JsonNode params) throws ChainUnavailableException {
        switch (method) {
            case WindowRpc.COMMIT -> {
                chain.commit(WindowRpc.commitment(params.path(0)));
                return NullNode.getInstance();
            }
            case WindowRpc.COMMITMENTS -> {
                long number = WindowRpc.integer(params.path(0), "block number", Long.MAX_VALUE);
                return number > chain.head() ? NullNode.getInstance() : WindowRpc.blockCommitments(chain.block(number));
            }
            case WindowRpc.SET_WEIGHTS -> {
                int validator = (int) WindowRpc.integer(params.path(0), "validator uid", Commitment.MAX_UID);
                chain.setWeights(validator, WindowRpc.weightValues(params.path(1)));
                return NullNode.getInstance();
            }
            case WindowRpc.WEIGHTS -> {
                int validator = (int) WindowRpc.integer(params.path(0), "validator uid", Commitment.MAX_UID);
                return chain.weights(validator).<JsonNode>map(WindowRpc::weights).orElse(NullNode.getInstance());
            }
            default -> throw new IllegalArgumentException("not a window protocol method: " + method);
        }
    }
}
