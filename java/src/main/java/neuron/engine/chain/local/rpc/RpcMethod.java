package neuron.engine.chain.local.rpc;

import com.fasterxml.jackson.databind.JsonNode;

/** One JSON-RPC method of a {@link RpcTable}: the call's params in, the result out (a JSON null is a valid result). */
@FunctionalInterface
public interface RpcMethod {

    /** @throws RpcException for an error the client should get, such as invalid params */
    JsonNode call(RpcCall call) throws RpcException;
}
