package neuron.engine.chain;

/** JSON-RPC error codes the tests expect. */
final class RpcErrors {
    static final int INVALID_PARAMS = -32602;

    private RpcErrors() {
    }
}
