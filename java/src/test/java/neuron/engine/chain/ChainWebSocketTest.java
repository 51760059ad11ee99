package neuron.engine.chain;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.java_websocket.WebSocket;
import org.junit.jupiter.api.Test;

/** The WebSocket client against the real {@link ChainServer} on loopback, and against a raw server sending garbage. */
class ChainWebSocketTest {
    private static final String SEED = "ws-test";
    private static final Duration FAST_BACKOFF = Duration.ofMillis(20);

    private static ChainServer serve(long firstBlock, int port) throws Exception {
        return ChainServer.start(new LocalChain(SEED, 3, firstBlock), new InetSocketAddress("127.0.0.1", port));
    }

    private static ChainFollower follow(ChainServer server) {
        return new ChainFollower(WsChainClient.open(server.uri(), FAST_BACKOFF, Duration.ofMillis(200)), null);
    }

    @Test
    void subscribesAndReceivesTheServersBlocksInOrder() throws Exception {
        try (ChainServer server = serve(0, 0); ChainFollower feed = follow(server)) {
            List<BlockEvent> events = Feeds.take(feed, 20);
            Feeds.assertConsecutive(events.get(0).number(), events);
            for (BlockEvent e : events) {
                assertEquals(server.chain().block(e.number()), e.block(), "the hash comes from chain_getBlockHash");
                assertFalse(e.reorg());
            }
        }
    }

    @Test
    void reconnectsAfterTheServerRestartsAndFetchesTheMissedBlocks() throws Exception {
        ChainServer server = serve(0, 0);
        int port = server.port();
        WsChainClient client = WsChainClient.open(server.uri(), FAST_BACKOFF, Duration.ofMillis(200));
        try (ChainFollower feed = new ChainFollower(client, null)) {
            List<BlockEvent> events = new ArrayList<>(Feeds.take(feed, 10));
            long lastBeforeDrop = server.chain().head();
            server.close();
            Feeds.await("the client to notice the drop", () -> !client.isConnected());
            // the chain went on while the server was down: it comes back 50 blocks further
            server = serve(lastBeforeDrop + 50, port);
            events.addAll(Feeds.take(feed, 70));
            Feeds.assertConsecutive(events.get(0).number(), events);
            events.forEach(e -> assertFalse(e.reorg(), "same seed, same chain: " + e));
            assertTrue(client.gapsDetected() >= 1, "the missed heads are reported as a gap");
        } finally {
            server.close();
        }
    }

    @Test
    void skippedAnnouncementsAreAGapThatIsFilledByNumber() throws Exception {
        try (ChainServer server = serve(0, 0)) {
            WsChainClient client = WsChainClient.open(server.uri(), FAST_BACKOFF, Duration.ofMillis(200));
            try (ChainFollower feed = new ChainFollower(client, null)) {
                List<BlockEvent> events = new ArrayList<>(Feeds.take(feed, 3));
                server.skipAnnouncements(5);
                Feeds.await("the client to see the gap", () -> client.gapsDetected() == 1);
                long headAfterGap = client.head();
                while (events.get(events.size() - 1).number() < headAfterGap) {
                    events.addAll(Feeds.take(feed, 1));
                }
                Feeds.assertConsecutive(events.get(0).number(), events);
            }
        }
    }

    @Test
    void aForkOnTheServerReachesTheClientAsAFlaggedReorg() throws Exception {
        try (ChainServer server = serve(0, 0); ChainFollower feed = follow(server)) {
            Feeds.take(feed, 5);
            server.chain().reorganise(feed.lastDelivered().number());
            BlockEvent flagged = Feeds.take(feed, 1).get(0);
            assertTrue(flagged.reorg(), "the block after the replaced one is flagged: " + flagged);
            assertEquals(server.chain().block(flagged.number()), flagged.block(), "and it is the new branch's");
            BlockEvent after = Feeds.take(feed, 1).get(0);
            assertEquals(flagged.number() + 1, after.number());
            assertFalse(after.reorg());
        }
    }

    @Test
    void malformedMessagesAreLoggedAndIgnored() throws Exception {
        RawServer raw = new RawServer(List.of(
                "not json at all",
                "[1, 2, 3]",
                "{\"jsonrpc\":\"2.0\",\"method\":\"chain_newHead\",\"params\":{\"result\":{\"number\":\"zz\"}}}",
                "{\"jsonrpc\":\"2.0\",\"method\":\"chain_newHead\",\"params\":{}}",
                "{\"jsonrpc\":\"2.0\",\"id\":999999,\"result\":1}",
                "{\"jsonrpc\":\"2.0\",\"method\":\"chain_newHead\",\"params\":{\"subscription\":\"1\","
                        + "\"result\":{\"number\":\"0x2a\",\"parentHash\":\"" + Hash32.ZERO.toHex() + "\"}}}"));
        raw.start();
        try (WsChainClient client = WsChainClient.open(URI.create("ws://127.0.0.1:" + raw.awaitPort()),
                FAST_BACKOFF, Duration.ofMillis(200))) {
            assertTrue(client.awaitHead(42, Feeds.PATIENCE), "the valid announcement after the garbage still counts");
            assertEquals(5, client.malformedMessages());
            assertTrue(client.isConnected());
        } finally {
            raw.stop(1000);
        }
    }

    /** Answers any message with the scripted messages, whatever was asked. */
    private static final class RawServer extends LoopbackServer {
        private final List<String> script;

        RawServer(List<String> script) {
            this.script = script;
        }

        @Override
        public void onMessage(WebSocket socket, String message) {
            script.forEach(socket::send);
        }
    }
}
