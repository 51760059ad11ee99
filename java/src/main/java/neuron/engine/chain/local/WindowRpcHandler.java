package neuron.engine.chain.local;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.NullNode;
import neuron.engine.chain.WindowRpc;
import neuron.engine.chain.local.rpc.RpcCall;
import neuron.engine.chain.local.rpc.RpcException;
import neuron.engine.chain.local.rpc.RpcTable;
import neuron.engine.network.ChainUnavailableException;
import neuron.engine.network.ChainWeights;
import neuron.engine.network.Commitment;

import java.util.SortedMap;

/** The chain server's side of {@link WindowRpc}: the window protocol's methods, answered by the local chain. */
final class WindowRpcHandler {
    private final LocalChain chain;

    WindowRpcHandler(LocalChain chain, RpcTable table) {
        this.chain = chain;
        table.register(WindowRpc.COMMIT, this::commit);
        table.register(WindowRpc.COMMITMENTS, this::commitments);
        table.register(WindowRpc.SET_WEIGHTS, this::setWeights);
        table.register(WindowRpc.WEIGHTS, call -> chain.weights(validatorUid(call)).<JsonNode>map(WindowRpc::weights)
                .orElse(NullNode.getInstance()));
    }

    private JsonNode commit(RpcCall call) throws RpcException {
        Commitment commitment = param(() -> WindowRpc.commitment(call.param(0)));
        try {
            chain.commit(commitment);
        } catch (ChainUnavailableException full) {
            throw new RpcException(RpcException.LIMIT_EXCEEDED, full.getMessage());
        }
        return NullNode.getInstance();
    }

    private JsonNode commitments(RpcCall call) throws RpcException {
        long number = param(() -> WindowRpc.integer(call.param(0), "block number", Long.MAX_VALUE));
        return number > chain.head() ? NullNode.getInstance() : WindowRpc.blockCommitments(chain.block(number));
    }

    private JsonNode setWeights(RpcCall call) throws RpcException {
        int validator = validatorUid(call);
        SortedMap<Integer, Integer> values = param(() -> WindowRpc.weightValues(call.param(1)));
        param(() -> new ChainWeights(validator, 0, values));  // checked as the chain takes them: summing to 65535
        try {
            chain.setWeights(validator, values);
        } catch (ChainUnavailableException closed) {
            throw new RpcException(RpcException.LIMIT_EXCEEDED, closed.getMessage());
        }
        return NullNode.getInstance();
    }

    private static int validatorUid(RpcCall call) throws RpcException {
        return (int) (long) param(() -> WindowRpc.integer(call.param(0), "validator uid", Commitment.MAX_UID));
    }

    private interface Parse<T> {
        T get();
    }

    /** A param decoded by {@link WindowRpc}, whose messages are written for the client: invalid params if it throws. */
    private static <T> T param(Parse<T> parse) throws RpcException {
        try {
            return parse.get();
        } catch (IllegalArgumentException e) {
            throw RpcException.invalidParams(e.getMessage());
        }
    }
}
