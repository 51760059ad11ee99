package neuron.engine.chain;

/** JSON-RPC error codes the tests expect. */
public final class RpcErrors {
    public static final int INVALID_PARAMS = -32602;

    private RpcErrors() {
    }
}
