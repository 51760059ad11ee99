package neuron.engine.chain.local.rpc;

/**
 * A JSON-RPC 2.0 error for the client: a code and a message written for it. Internal failures never become one of
 * these with their own text; {@link RpcTable} answers them with a plain "Internal error".
 */
public final class RpcException extends Exception {
    public static final int PARSE_ERROR = -32700;
    public static final int INVALID_REQUEST = -32600;
    public static final int METHOD_NOT_FOUND = -32601;
    public static final int INVALID_PARAMS = -32602;
    public static final int INTERNAL_ERROR = -32603;
    /** A server-defined code (JSON-RPC reserves -32000..-32099 for these): the request was fine, the server refuses it. */
    public static final int LIMIT_EXCEEDED = -32005;

    private final int code;

    public RpcException(int code, String message) {
        super(message, null, false, false); // a message for a client, not a trace for a log
        this.code = code;
    }

    public static RpcException invalidParams(String message) {
        return new RpcException(INVALID_PARAMS, "Invalid params: " + message);
    }

    public int code() {
        return code;
    }
}
