package neuron.engine.chain.local.rpc;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The subscribers of one kind of notification (e.g. {@code chain_newHead}): each subscription has an id unique in
 * the process and may hold a state of its own (the storage keys it watches, say); a notification goes out as
 * {@code {"method": notification, "params": {"subscription": id, "result": …}}}.
 */
public final class Subscriptions {
    private static final AtomicLong IDS = new AtomicLong();

    /** Sees one subscription. */
    @FunctionalInterface
    public interface Visitor {
        void visit(RpcSession session, String id, Object state);
    }

    private final String notification;
    private final Map<RpcSession, Map<String, Object>> bySession = new ConcurrentHashMap<>();

    Subscriptions(String notification) {
        this.notification = notification;
    }

    /** A new subscription of {@code session}; refused when the session holds too many already. */
    public String subscribe(RpcSession session, Object state) throws RpcException {
        session.subscribed();
        String id = Long.toString(IDS.incrementAndGet());
        bySession.computeIfAbsent(session, s -> new ConcurrentHashMap<>()).put(id, state);
        return id;
    }

    public String subscribe(RpcSession session) throws RpcException {
        return subscribe(session, Boolean.TRUE);
    }

    /** Ends a subscription; false when {@code session} has none with that id here. */
    public boolean unsubscribe(RpcSession session, String id) {
        Map<String, Object> ids = bySession.get(session);
        if (ids == null || ids.remove(id) == null) {
            return false;
        }
        session.unsubscribed();
        return true;
    }

    /** Sends {@code result} to every subscription. */
    public void publish(JsonNode result) {
        forEach((session, id, state) -> send(session, id, result));
    }

    public void forEach(Visitor visitor) {
        bySession.forEach((session, ids) -> ids.forEach((id, state) -> visitor.visit(session, id, state)));
    }

    /** Sends {@code result} to one subscription (its first notification, say). */
    public void send(RpcSession session, String id, JsonNode result) {
        ObjectNode msg = RpcTable.envelope();
        msg.put("method", notification);
        ObjectNode params = msg.putObject("params");
        params.put("subscription", id);
        params.set("result", result);
        session.send(msg.toString());
    }

    void closed(RpcSession session) {
        bySession.remove(session);
    }
}
