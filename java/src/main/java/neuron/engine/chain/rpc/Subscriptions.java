package neuron.engine.chain.rpc;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The subscribers of one kind of notification (e.g. {@code chain_newHead}): each subscription has an id unique in
 * the process, and every published result goes to every subscription as
 * {@code {"method": notification, "params": {"subscription": id, "result": …}}}.
 */
public final class Subscriptions {
    private static final AtomicLong IDS = new AtomicLong();

    private final String notification;
    private final Map<RpcSession, Set<String>> bySession = new ConcurrentHashMap<>();

    Subscriptions(String notification) {
        this.notification = notification;
    }

    public String notification() {
        return notification;
    }

    /** A new subscription of {@code session}; refused when the session holds too many already. */
    public String subscribe(RpcSession session) throws RpcException {
        session.subscribed();
        String id = Long.toString(IDS.incrementAndGet());
        bySession.computeIfAbsent(session, s -> ConcurrentHashMap.newKeySet()).add(id);
        return id;
    }

    /** Ends a subscription; false when {@code session} has none with that id here. */
    public boolean unsubscribe(RpcSession session, String id) {
        Set<String> ids = bySession.get(session);
        if (ids == null || !ids.remove(id)) {
            return false;
        }
        session.unsubscribed();
        return true;
    }

    /** Sends {@code result} to every subscription. */
    public void publish(JsonNode result) {
        bySession.forEach((session, ids) -> ids.forEach(id -> send(session, id, result)));
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
