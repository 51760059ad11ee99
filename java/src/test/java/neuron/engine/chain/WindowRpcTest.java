package neuron.engine.chain;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import net.openhft.chronicle.bytes.Bytes;
import neuron.engine.chain.local.ChainServer;
import neuron.engine.chain.local.LocalChain;
import neuron.engine.journal.BlockJournal;
import neuron.engine.journal.JournalCursor;
import neuron.engine.network.ChainUnavailableException;
import neuron.engine.network.ChainWeights;
import neuron.engine.network.Commitment;
import neuron.engine.network.Hash32;
import org.java_websocket.WebSocket;
import org.java_websocket.client.WebSocketClient;
import org.java_websocket.handshake.ServerHandshake;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The window protocol's chain methods over real WebSockets: commitments in blocks, weights, bad calls, old nodes. */
class WindowRpcTest {
    private static final Duration FAST_BACKOFF = Duration.ofMillis(20);

    @TempDir
    Path dir;

    private static ChainServer serve() throws Exception {
        return ChainServer.start(new LocalChain("window-rpc", 25, 0), new InetSocketAddress("127.0.0.1", 0));
    }

    private static WsChainClient client(URI uri) {
        return WsChainClient.open(uri, Follow.BEST, FAST_BACKOFF, Duration.ofMillis(200));
    }

    private static Hash32 hash(String text) {
        return Hash32.sha256(text.getBytes());
    }

    @Test
    void aCommitmentGoesIntoALaterBlockAndComesWithItThroughTheFeedIntoTheJournal() throws Exception {
        try (ChainServer server = serve(); WsChainClient writer = client(server.uri())) {
            assertTrue(writer.awaitHead(2, Feeds.PATIENCE));
            long before = writer.head();
            Commitment update = new Commitment(Commitment.Kind.UPDATE, 7, 3, hash("update"));
            Commitment aggregate = new Commitment(Commitment.Kind.AGGREGATE, 0, 2, Hash32.ZERO);
            writer.commit(update);
            writer.commit(aggregate);
            List<BlockEvent> events = new ArrayList<>();
            List<Commitment> seen = new ArrayList<>();
            try (ChainFollower feed = new ChainFollower(client(server.uri()), List.of(), before)) {
                while (seen.size() < 2) {
                    BlockEvent event = Feeds.take(feed, 1).get(0);
                    assertTrue(event.block().commitments().isEmpty() || event.number() > before, event.toString());
                    assertEquals(server.chain().block(event.number()), event.block());
                    seen.addAll(event.block().commitments());
                    events.add(event);
                }
                events.addAll(Feeds.take(feed, 3));
            }
            assertEquals(List.of(update, aggregate), seen, "each once, in the order sent");
            assertTrue(events.subList(events.size() - 3, events.size()).stream()
                    .allMatch(e -> e.block().commitments().isEmpty()), "and in no later block");

            try (BlockJournal journal = BlockJournal.open(dir.resolve("journal"))) {
                events.forEach(journal::appendBlock);
                List<Block> replayed = new ArrayList<>();
                try (JournalCursor cursor = journal.replay(-1, Long.MAX_VALUE)) {
                    while (cursor.next()) {
                        replayed.add(cursor.block().block());
                    }
                }
                assertEquals(events.stream().map(BlockEvent::block).toList(), replayed, "blocks with their commitments");
            }
        }
    }

    @Test
    void weightsAreSetAsU16ValuesSummingTo65535AndReadBackFromTheChain() throws Exception {
        try (ChainServer server = serve(); WsChainClient client = client(server.uri())) {
            assertTrue(client.awaitHead(1, Feeds.PATIENCE));
            assertEquals(Optional.empty(), client.weights(4), "a validator that never set any");
            // The client's head may lag the server's under load: the weights land after the head seen before the
            // call, in a block the client then sees.
            long before = client.head();
            client.setWeights(4, new TreeMap<>(Map.of(1, 60_000, 3, 5_535)));
            assertTrue(client.awaitHead(before + 2, Feeds.PATIENCE));
            ChainWeights read = client.weights(4).orElseThrow();
            assertEquals(Map.of(1, 60_000, 3, 5_535), read.values());
            assertTrue(read.block() > before, read + " set after block " + before);
            assertTrue(client.awaitHead(read.block(), Feeds.PATIENCE), read + " is in a block the client sees");
            ChainUnavailableException refused = assertThrows(ChainUnavailableException.class,
                    () -> client.setWeights(4, new TreeMap<>(Map.of(1, 100))));
            assertTrue(refused.getMessage().contains("sum to 65535"), refused.getMessage());
        }
    }

    @Test
    void aBadCallGetsAnErrorAnswerAndTheServerGoesOn() throws Exception {
        try (ChainServer server = serve()) {
            RawClient raw = new RawClient(server.uri());
            assertTrue(raw.connectBlocking(10, TimeUnit.SECONDS));
            String good = "{\"kind\":\"update\",\"uid\":1,\"window\":0,\"hash\":\"" + hash("x").toHex() + "\"}";
            for (String params : List.of("[]", "[{\"kind\":\"update\",\"uid\":70000,\"window\":0,\"hash\":\""
                            + hash("x").toHex() + "\"}]",
                    "[" + good.replace("\"window\":0", "\"window\":-1") + "]",
                    "[" + good.replace("\"window\":0", "\"window\":18446744073709551616") + "]",
                    "[" + good.replace(hash("x").toHex(), "0x1234") + "]",
                    "[" + good.replace("update", "gossip") + "]", "[\"not an object\"]")) {
                JsonNode answer = raw.call(WindowRpc.COMMIT, params);
                assertTrue(answer.has("error"), params + " -> " + answer);
                assertFalse(answer.path("error").path("message").asText().contains("Exception"), answer.toString());
            }
            for (String params : List.of("[-1]", "[18446744073709551616]", "[\"zz\"]")) {
                assertTrue(raw.call(WindowRpc.COMMITMENTS, params).has("error"), params);
            }
            assertTrue(raw.call(WindowRpc.SET_WEIGHTS, "[0, [[1, 65535], [1, 0]]]").has("error"), "a uid twice");
            assertTrue(raw.call(WindowRpc.SET_WEIGHTS, "[0, [[1, 70000]]]").has("error"), "not a u16");
            assertTrue(raw.call(WindowRpc.COMMIT, "[" + good + "]").path("result").isNull(), "a good call still works");
            assertTrue(raw.call(WindowRpc.COMMITMENTS, "[1000000000]").path("result").isNull(), "a block not yet made");
            raw.closeBlocking();
        }
    }

    @Test
    void aNodeWithoutTheWindowMethodsHasBlocksWithoutCommitments() throws Exception {
        PlainNode node = new PlainNode(false);
        node.start();
        try (ChainFollower feed = new ChainFollower(client(URI.create("ws://127.0.0.1:" + node.awaitPort())), List.of(), 0L)) {
            List<BlockEvent> events = Feeds.take(feed, 4);
            Feeds.assertConsecutive(0, events);
            events.forEach(e -> assertTrue(e.block().commitments().isEmpty()));
        } finally {
            node.stop(1000);
        }
    }

    @Test
    void aCommitmentFromTheNodeThatDoesNotParseIsSkippedAndTheRestOfTheBlockKept() throws Exception {
        PlainNode node = new PlainNode(true);
        node.start();
        try (ChainFollower feed = new ChainFollower(client(URI.create("ws://127.0.0.1:" + node.awaitPort())), List.of(), 0L)) {
            for (BlockEvent e : Feeds.take(feed, 3)) {
                assertEquals(List.of(PlainNode.committed(e.number())), e.block().commitments(), e.toString());
            }
        } finally {
            node.stop(1000);
        }
    }

    /** Sends one request at a time and waits for its answer. */
    private static final class RawClient extends WebSocketClient {
        private final BlockingQueue<String> answers = new LinkedBlockingQueue<>();
        private int id;

        RawClient(URI uri) {
            super(uri);
        }

        JsonNode call(String method, String params) throws Exception {
            send("{\"jsonrpc\":\"2.0\",\"id\":" + ++id + ",\"method\":\"" + method + "\",\"params\":" + params + "}");
            String answer = answers.poll(Feeds.PATIENCE.toMillis(), TimeUnit.MILLISECONDS);
            assertNotNull(answer, "no answer to " + method + " " + params);
            return SubstrateJson.MAPPER.readTree(answer);
        }

        @Override
        public void onOpen(ServerHandshake handshake) {
        }

        @Override
        public void onMessage(String message) {
            answers.add(message);
        }

        @Override
        public void onClose(int code, String reason, boolean remote) {
        }

        @Override
        public void onError(Exception e) {
        }
    }

    /**
     * A node with blocks 0..5 that knows the Substrate block methods and, with {@code windowMethods}, answers
     * neuron_commitments with a commitment whose uid does not fit any integer beside a good one.
     */
    private static final class PlainNode extends LoopbackServer {
        private final boolean windowMethods;

        PlainNode(boolean windowMethods) {
            this.windowMethods = windowMethods;
        }

        static Commitment committed(long n) {
            return new Commitment(Commitment.Kind.UPDATE, 3, n, hashOf(n));
        }

        /** Real headers (the client checks that each hashes to its block's hash), blocks 0..5 in a row. */
        private static final List<Header> HEADERS = headers();

        private static List<Header> headers() {
            List<Header> headers = new ArrayList<>();
            Hash32 parent = Hash32.ZERO;
            for (long n = 0; n <= 5; n++) {
                Header header = new Header(parent, n, Hash32.ZERO, Hash32.ZERO, List.of());
                headers.add(header);
                parent = header.hash();
            }
            return headers;
        }

        private static Hash32 hashOf(long n) {
            return HEADERS.get((int) n).hash();
        }

        @Override
        public void onMessage(WebSocket socket, String message) {
            try {
                JsonNode msg = SubstrateJson.MAPPER.readTree(message);
                JsonNode id = msg.get("id");
                switch (msg.path("method").asText()) {
                    case SubstrateJson.SUBSCRIBE_NEW_HEADS -> {
                        socket.send(result(id, SubstrateJson.MAPPER.getNodeFactory().textNode("1")));
                        socket.send(notification(SubstrateJson.NEW_HEAD, "1",
                                HEADERS.get(5).toJson()));
                    }
                    case SubstrateJson.GET_BLOCK_HASH -> socket.send(result(id,
                            SubstrateJson.MAPPER.getNodeFactory().textNode(hashOf(msg.path("params").path(0).asLong()).toHex())));
                    case SubstrateJson.GET_HEADER -> {
                        for (long n = 0; n <= 5; n++) {
                            if (hashOf(n).toHex().equals(msg.path("params").path(0).asText())) {
                                socket.send(result(id, HEADERS.get((int) n).toJson()));
                            }
                        }
                    }
                    case WindowRpc.COMMITMENTS -> {
                        if (!windowMethods) {
                            socket.send(error(id, -32601, "Method not found"));
                            return;
                        }
                        long n = msg.path("params").path(0).asLong();
                        String answer = "{\"number\":" + n + ",\"hash\":\"" + hashOf(n).toHex() + "\",\"commitments\":["
                                + "{\"kind\":\"update\",\"uid\":99999999999999999999,\"window\":0,\"hash\":\""
                                + hashOf(n).toHex() + "\"}," + WindowRpc.commitment(committed(n)) + "]}";
                        socket.send(result(id, SubstrateJson.MAPPER.readTree(answer)));
                    }
                    default -> socket.send(error(id, -32601, "Method not found"));
                }
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        }

        private static String result(JsonNode id, JsonNode result) {
            ObjectNode msg = SubstrateJson.MAPPER.createObjectNode().put("jsonrpc", "2.0");
            msg.set("id", id);
            msg.set("result", result);
            return msg.toString();
        }

        private static String error(JsonNode id, int code, String message) {
            ObjectNode msg = SubstrateJson.MAPPER.createObjectNode().put("jsonrpc", "2.0");
            msg.set("id", id);
            msg.putObject("error").put("code", code).put("message", message);
            return msg.toString();
        }

        private static String notification(String method, String subscription, JsonNode result) {
            ObjectNode msg = SubstrateJson.MAPPER.createObjectNode().put("jsonrpc", "2.0").put("method", method);
            msg.putObject("params").put("subscription", subscription).set("result", result);
            return msg.toString();
        }
    }
}
