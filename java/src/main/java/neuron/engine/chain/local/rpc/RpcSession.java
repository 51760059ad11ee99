package neuron.engine.chain.local.rpc;

/**
 * One client connection: where answers and a subscription's notifications go. A session holds at most
 * {@link #MAX_SUBSCRIPTIONS} subscriptions, so a client cannot make the server hold unbounded state for it.
 */
public abstract class RpcSession {
    public static final int MAX_SUBSCRIPTIONS = 64;

    private int subscriptions;

    /** Sends one text message; a session that closed meanwhile drops it (its close cleans up). */
    public abstract void send(String text);

    /** Closes the connection with a reason the client sees (a WebSocket close code 1008 "policy violation"). */
    public abstract void close(String reason);

    synchronized void subscribed() throws RpcException {
        if (subscriptions >= MAX_SUBSCRIPTIONS) {
            throw new RpcException(RpcException.LIMIT_EXCEEDED, "Too many subscriptions on this connection (at most "
                    + MAX_SUBSCRIPTIONS + ")");
        }
        subscriptions++;
    }

    synchronized void unsubscribed() {
        subscriptions--;
    }
}
