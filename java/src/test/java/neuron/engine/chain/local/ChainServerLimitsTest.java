package neuron.engine.chain.local;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import neuron.engine.chain.Feeds;
import neuron.engine.chain.Follow;
import neuron.engine.chain.RawWebSocket;
import neuron.engine.chain.RpcClient;
import neuron.engine.chain.WsChainClient;
import neuron.engine.cli.Main;
import neuron.engine.testing.ChildJvm;
import neuron.engine.testing.Slow;
import org.java_websocket.WebSocket;
import org.java_websocket.handshake.ClientHandshake;
import org.java_websocket.server.WebSocketServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a hostile client can make the chain server (and a hostile node the validator's client) hold is bounded.
 * The server runs as {@code bin/neuron chain} in a JVM with a small heap: eight concurrent 50 MB frames, which
 * once took it to 1.33 GB, must close those connections with a reason and leave it serving.
 */
@Slow
class ChainServerLimitsTest {
    private static final Pattern SERVING = Pattern.compile("serving ws://127\\.0\\.0\\.1:(\\d+)");
    private static final long FIFTY_MB = 50L << 20;

    @TempDir
    Path dir;

    @Test
    void concurrentHugeFramesHandshakesAndUnreadOutputAreClosedAndTheServerServesOn() throws Exception {
        File log = dir.resolve("chain.log").toFile();
        Process chain = ChildJvm.start(ChildJvm.command(List.of("-Xmx64m"), Main.class, "chain", "--port", "0",
                "--block_time_ms", "1"), dir.toFile(), log);
        ExecutorService clients = Executors.newFixedThreadPool(8);
        try {
            int port = awaitPort(chain, log);
            List<Future<String>> closes = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                closes.add(clients.submit(() -> {
                    try (RawWebSocket socket = new RawWebSocket(port, 0).handshake()) {
                        socket.frameHeader(1, FIFTY_MB);
                        long taken = socket.writeUntilRefused(RawWebSocket.bytes(64 << 10), FIFTY_MB);
                        return socket.awaitClose() + " after " + taken + " bytes";
                    }
                }));
            }
            for (Future<String> close : closes) {
                String closed = close.get(2, TimeUnit.MINUTES);
                assertTrue(closed.startsWith("1009 ") && closed.length() > "1009  after".length(), closed);
            }

            try (RawWebSocket endless = new RawWebSocket(port, 0)) {
                String header = "GET / HTTP/1.1\r\nHost: x\r\n" + "X-Padding: " + "a".repeat(1000) + "\r\n";
                long taken = endless.writeUntilRefused(header.getBytes(StandardCharsets.US_ASCII), 50L << 20);
                assertTrue(taken < 50L << 20, "a never-ending handshake is cut off, after " + taken + " bytes");
            }

            try (RawWebSocket slow = new RawWebSocket(port, 4096).handshake()) {
                for (int i = 0; i < 60; i++) { // 60 subscriptions to 1000 blocks a second, never read
                    slow.text("{\"jsonrpc\":\"2.0\",\"id\":" + i + ",\"method\":\"chain_subscribeNewHeads\"}");
                }
                Thread.sleep(3000);
                String closed = slow.awaitClose();
                assertTrue(closed.startsWith("1008 ") || closed.equals("EOF"), closed);
            }

            try (RpcClient client = new RpcClient(URI.create("ws://127.0.0.1:" + port))) {
                assertEquals("Neuron Local", client.call("system_chain").get("result").asText(), "still serving");
            }
            assertTrue(chain.isAlive(), Files.readString(log.toPath()));
            assertTrue(!Files.readString(log.toPath()).contains("OutOfMemoryError"), Files.readString(log.toPath()));
        } finally {
            clients.shutdownNow();
            chain.destroy();
            chain.waitFor(30, TimeUnit.SECONDS);
        }
    }

    @Test
    void theValidatorsClientClosesAnOversizedMessageAndReconnects() throws Exception {
        CompletableFuture<Integer> closeCode = new CompletableFuture<>();
        CompletableFuture<Void> reconnected = new CompletableFuture<>();
        String huge = "{\"jsonrpc\":\"2.0\",\"method\":\"chain_finalizedHead\",\"params\":{\"subscription\":\"1\",\"result\":\""
                + "a".repeat(WsChainClient.MAX_MESSAGE_BYTES + 1) + "\"}}";
        WebSocketServer hostile = new WebSocketServer(new InetSocketAddress("127.0.0.1", 0)) {
            private int connections;

            @Override
            public void onOpen(WebSocket socket, ClientHandshake handshake) {
                if (++connections == 2) {
                    reconnected.complete(null);
                }
            }

            @Override
            public void onMessage(WebSocket socket, String message) {
                if (connections == 1) {
                    socket.send(huge);
                }
            }

            @Override
            public void onClose(WebSocket socket, int code, String reason, boolean remote) {
                closeCode.complete(code);
            }

            @Override
            public void onError(WebSocket socket, Exception e) {
            }

            @Override
            public void onStart() {
            }
        };
        hostile.setDaemon(true);
        hostile.start();
        try {
            Feeds.await("the hostile server to bind", () -> hostile.getPort() > 0);
            try (WsChainClient client = WsChainClient.open(URI.create("ws://127.0.0.1:" + hostile.getPort()),
                    Follow.FINALIZED, Duration.ofMillis(20), Duration.ofMillis(200))) {
                int code = closeCode.get(30, TimeUnit.SECONDS);
                // 1009 "too big", or 1006 when the server was still sending as the client closed
                assertTrue(code == 1009 || code == 1006, "closed as too big: " + code);
                reconnected.get(30, TimeUnit.SECONDS);
                assertEquals(-1, client.head(), "nothing from the oversized message was taken");
                assertEquals(0, client.malformedMessages(), "it was never parsed");
            }
        } finally {
            hostile.stop(1000);
        }
    }

    private static int awaitPort(Process chain, File log) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline && chain.isAlive()) {
            Matcher serving = SERVING.matcher(log.exists() ? Files.readString(log.toPath()) : "");
            if (serving.find()) {
                return Integer.parseInt(serving.group(1));
            }
            Thread.sleep(20);
        }
        throw new AssertionError("the chain server did not start: " + Files.readString(log.toPath()));
    }
}
