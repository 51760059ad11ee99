package neuron.engine.chain.local.rpc;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * JSON-RPC 2.0 dispatch: method name to {@link RpcMethod}, filled by separate handler classes, each registering its
 * own methods, plus the notification topics ({@link Subscriptions}) they publish on. Every request gets an answer:
 * a result, or an error with the spec's codes (parse error, invalid request, method not found, invalid params);
 * an exception inside a method is logged and answered "Internal error", its text never reaching the client.
 */
public final class RpcTable {
    public static final ObjectMapper MAPPER = new ObjectMapper();
    /** The most requests one batch may hold. */
    static final int MAX_BATCH = 64;
    private static final Logger log = LoggerFactory.getLogger(RpcTable.class);

    private final Map<String, RpcMethod> methods = new ConcurrentHashMap<>();
    private final List<Subscriptions> topics = new CopyOnWriteArrayList<>();

    /** Adds a method; a name can be registered once. */
    public void register(String name, RpcMethod method) {
        if (methods.putIfAbsent(name, method) != null) {
            throw new IllegalStateException("JSON-RPC method " + name + " is registered twice");
        }
    }

    /** A new notification topic, whose subscriptions end when their session closes. */
    public Subscriptions topic(String notification) {
        Subscriptions topic = new Subscriptions(notification);
        topics.add(topic);
        return topic;
    }

    /** The registered method names, sorted (what {@code rpc_methods} lists). */
    public List<String> names() {
        return methods.keySet().stream().sorted().toList();
    }

    /** Answers one message (a request or a batch) from {@code session}; runs follow-ups once the answer is sent. */
    public void handle(RpcSession session, String text) {
        JsonNode message;
        try {
            message = MAPPER.readTree(text);
        } catch (JsonProcessingException e) {
            session.send(error(NullNode.getInstance(), new RpcException(RpcException.PARSE_ERROR, "Parse error")).toString());
            return;
        }
        if (message.isArray() && !message.isEmpty()) {
            handleBatch(session, message);
            return;
        }
        RpcCall call = new RpcCall(message.path("params"), session);
        JsonNode answer = answer(message, call);
        if (answer != null) {
            session.send(answer.toString());
            call.answered();
        }
    }

    /** Called when a session closes: its subscriptions end. */
    public void closed(RpcSession session) {
        topics.forEach(topic -> topic.closed(session));
    }

    static ObjectNode envelope() {
        return MAPPER.createObjectNode().put("jsonrpc", "2.0");
    }

    private void handleBatch(RpcSession session, JsonNode batch) {
        if (batch.size() > MAX_BATCH) {
            session.send(error(NullNode.getInstance(), new RpcException(RpcException.INVALID_REQUEST,
                    "Invalid request: a batch holds at most " + MAX_BATCH + " requests")).toString());
            return;
        }
        ArrayNode answers = MAPPER.createArrayNode();
        List<RpcCall> calls = new ArrayList<>();
        for (JsonNode message : batch) {
            RpcCall call = new RpcCall(message.path("params"), session);
            JsonNode answer = answer(message, call);
            if (answer != null) {
                answers.add(answer);
                calls.add(call);
            }
        }
        if (!answers.isEmpty()) {
            session.send(answers.toString());
        }
        calls.forEach(RpcCall::answered);
    }

    /** The answer to one request object; null for a valid notification (no id), which gets none. */
    private JsonNode answer(JsonNode message, RpcCall call) {
        JsonNode id = message.path("id");
        boolean notification = id.isMissingNode();
        if (notification) {
            id = NullNode.getInstance();
        }
        if (!message.isObject() || !"2.0".equals(message.path("jsonrpc").asText(null))
                || !message.path("method").isTextual() || !(id.isNull() || id.isTextual() || id.isIntegralNumber())) {
            return error(id.isValueNode() ? id : NullNode.getInstance(),
                    new RpcException(RpcException.INVALID_REQUEST, "Invalid request"));
        }
        String name = message.get("method").asText();
        RpcMethod method = methods.get(name);
        JsonNode answer;
        if (method == null) {
            answer = error(id, new RpcException(RpcException.METHOD_NOT_FOUND, "Method not found"));
        } else {
            try {
                JsonNode result = method.call(call);
                ObjectNode ok = envelope();
                ok.set("id", id);
                ok.set("result", result == null ? NullNode.getInstance() : result);
                answer = ok;
            } catch (RpcException e) {
                answer = error(id, e);
            } catch (RuntimeException e) {
                log.warn("JSON-RPC method {} failed", name, e);
                answer = error(id, new RpcException(RpcException.INTERNAL_ERROR, "Internal error"));
            }
        }
        return notification ? null : answer;
    }

    private static ObjectNode error(JsonNode id, RpcException e) {
        ObjectNode msg = envelope();
        msg.set("id", id);
        msg.putObject("error").put("code", e.code()).put("message", e.getMessage());
        return msg;
    }
}
