package neuron.engine.chain;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.net.URI;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.java_websocket.client.WebSocketClient;
import org.java_websocket.handshake.ServerHandshake;

/** A plain JSON-RPC client for tests: sends requests (or raw text) and collects answers, notifications and the close. */
public final class RpcClient extends WebSocketClient implements AutoCloseable {
    public final BlockingQueue<JsonNode> received = new LinkedBlockingQueue<>();
    public final CompletableFuture<String> closed = new CompletableFuture<>();
    private long ids;

    public RpcClient(URI uri) throws InterruptedException {
        super(uri);
        if (!connectBlocking(Feeds.PATIENCE.toMillis(), TimeUnit.MILLISECONDS)) {
            throw new AssertionError("cannot connect to " + uri);
        }
    }

    /** Sends a request and returns its answer (the whole message: result or error), skipping notifications. */
    public JsonNode call(String method, Object... params) throws InterruptedException {
        ObjectNode request = SubstrateJson.MAPPER.createObjectNode().put("jsonrpc", "2.0").put("id", ++ids)
                .put("method", method);
        ArrayNode array = request.putArray("params");
        for (Object param : params) {
            array.addPOJO(param);
        }
        return ask(request.toString(), ids);
    }

    /** Sends {@code text} as is and returns the next message with id {@code id} (null: the next answer at all). */
    public JsonNode ask(String text, Object id) throws InterruptedException {
        send(text);
        while (true) {
            JsonNode message = next();
            if (message.has("id") && (id == null || message.get("id").asText().equals(id.toString()))) {
                return message;
            }
            if (!message.has("method")) {
                throw new AssertionError("unexpected answer " + message + " to " + text);
            }
        }
    }

    /** The next message, whatever it is. */
    public JsonNode next() throws InterruptedException {
        JsonNode message = received.poll(Feeds.PATIENCE.toMillis(), TimeUnit.MILLISECONDS);
        if (message == null) {
            throw new AssertionError("nothing received in " + Feeds.PATIENCE + (closed.isDone() ? "; closed: "
                    + closed.getNow(null) : ""));
        }
        return message;
    }

    /** The next notification of {@code method}, skipping others. */
    public JsonNode notification(String method) throws InterruptedException {
        while (true) {
            JsonNode message = next();
            if (method.equals(message.path("method").asText())) {
                return message.get("params");
            }
        }
    }

    /** Closes and waits for the close handshake. */
    @Override
    public void close() {
        super.close();
        try {
            closed.get(Feeds.PATIENCE.toMillis(), TimeUnit.MILLISECONDS);
        } catch (Exception e) {
            throw new AssertionError("the connection did not close", e);
        }
    }

    @Override
    public void onOpen(ServerHandshake handshake) {
    }

    @Override
    public void onMessage(String message) {
        try {
            received.add(SubstrateJson.MAPPER.readTree(message));
        } catch (Exception e) {
            received.add(SubstrateJson.MAPPER.createObjectNode().put("unparsable", message));
        }
    }

    @Override
    public void onClose(int code, String reason, boolean remote) {
        closed.complete(code + " " + reason);
    }

    @Override
    public void onError(Exception e) {
    }
}
