package neuron.engine.chain;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.net.InetSocketAddress;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import neuron.engine.chain.local.ChainServer;
import neuron.engine.chain.local.LocalChain;
import neuron.engine.network.ChainUnavailableException;
import neuron.engine.network.Hash32;
import neuron.engine.testing.Deadline;
import org.java_websocket.WebSocket;
import org.junit.jupiter.api.Test;

/** The WebSocket client against the real {@link ChainServer} on loopback, and against a raw server sending garbage. */
class ChainWebSocketTest {
    private static final String SEED = "ws-test";
    private static final Duration FAST_BACKOFF = Duration.ofMillis(20);

    private static ChainServer serve(long firstBlock, int port) throws Exception {
        return serve(firstBlock, port, 3);
    }

    private static ChainServer serve(long firstBlock, int port, long blockTimeMs) throws Exception {
        return ChainServer.start(new LocalChain(SEED, blockTimeMs, firstBlock), new InetSocketAddress("127.0.0.1", port));
    }

    private static WsChainClient client(URI uri, Follow follow) {
        return WsChainClient.open(uri, follow, FAST_BACKOFF, Duration.ofMillis(200));
    }

    private static ChainFollower follow(ChainServer server, Follow follow) {
        return new ChainFollower(client(server.uri(), follow), List.of());
    }

    @Test
    void subscribesAndReceivesTheServersBlocksInOrder() throws Exception {
        try (ChainServer server = serve(0, 0); ChainFollower feed = follow(server, Follow.BEST)) {
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
        WsChainClient client = client(server.uri(), Follow.BEST);
        try (ChainFollower feed = new ChainFollower(client, List.of())) {
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
            WsChainClient client = client(server.uri(), Follow.BEST);
            try (ChainFollower feed = new ChainFollower(client, List.of())) {
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
    void followingBestHeadsAReorganisationRollsBackToTheCommonAncestor() throws Exception {
        // blocks slow enough for the follower to keep up, so that the blocks it has are not final yet
        try (ChainServer server = serve(0, 0, 150); ChainFollower feed = follow(server, Follow.BEST)) {
            Feeds.take(feed, 3);
            Block last = feed.lastDelivered();
            Deadline notFinal = Deadline.in(Feeds.PATIENCE);
            while (!Feeds.reorganised(server.chain(), last.number() - 1)) {
                // a busy machine delivered the blocks only once they were final: fork at a newer one
                notFinal.check(() -> "a delivered block that is not final yet, to fork at");
                Feeds.take(feed, 1);
                last = feed.lastDelivered();
            }
            BlockEvent first = Feeds.take(feed, 1).get(0);
            assertTrue(first.reorg(), "the first block of the new branch is flagged: " + first);
            assertEquals(last.number() - 1, first.number(), "it replaces the blocks from the fork on");
            assertEquals(server.chain().block(first.number()), first.block(), "and it is the new branch's");
            assertEquals(server.chain().block(first.number() - 1).hash(), first.block().parentHash());
            BlockEvent after = Feeds.take(feed, 1).get(0);
            assertEquals(first.number() + 1, after.number());
            assertFalse(after.reorg());
        }
    }

    @Test
    void followingFinalizedHeadsDeliversOnlyFinalBlocksAndNeverAReorg() throws Exception {
        try (ChainServer server = serve(0, 0, 20); ChainFollower feed = follow(server, Follow.FINALIZED)) {
            List<BlockEvent> events = new ArrayList<>(Feeds.take(feed, 5));
            for (int i = 0; i < 3; i++) { // replace blocks the best chain has and finality has not reached
                reorganiseAfterFinality(server.chain());
                events.addAll(Feeds.take(feed, 5));
            }
            Feeds.assertConsecutive(events.get(0).number(), events);
            for (BlockEvent e : events) {
                assertFalse(e.reorg(), e.toString());
                assertTrue(e.number() <= server.chain().finalizedHead(), e + " is final");
                assertEquals(server.chain().block(e.number()), e.block(), "final blocks stay");
            }
        }
    }

    /** Replaces the blocks after the finalized head, which may move on between reading it and replacing. */
    private static void reorganiseAfterFinality(LocalChain chain) {
        while (true) {
            try {
                chain.reorganise(chain.finalizedHead() + 1);
                return;
            } catch (IllegalArgumentException finalMeanwhile) {
                // finality moved past that block: try the next
            }
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
        try (WsChainClient client = client(URI.create("ws://127.0.0.1:" + raw.awaitPort()), Follow.BEST)) {
            assertTrue(client.awaitHead(42, Feeds.PATIENCE), "the valid announcement after the garbage still counts");
            assertEquals(5, client.malformedMessages());
            assertTrue(client.isConnected());
        } finally {
            raw.stop(1000);
        }
    }

    @Test
    void aHeaderThatDoesNotHashToTheBlockHashIsRefusedAndAskedForAgain() throws Exception {
        // block 1 of a real runtime: its hash, then headers for it that are not its own, then its own
        String other = HeaderTest.CHOPSTICKS_HEADER.replace("\"stateRoot\":\"0x00", "\"stateRoot\":\"0x01");
        String renumbered = HeaderTest.CHOPSTICKS_HEADER.replace("\"0x00000001\"", "\"0x00000002\"");
        HeaderServer node = new HeaderServer(List.of(other, renumbered, HeaderTest.CHOPSTICKS_HEADER));
        node.start();
        try (WsChainClient client = client(URI.create("ws://127.0.0.1:" + node.awaitPort()), Follow.BEST)) {
            ChainUnavailableException wrongHash = assertThrows(ChainUnavailableException.class,
                    () -> client.blockAt(1, Feeds.PATIENCE));
            assertTrue(wrongHash.getMessage().contains("the header of block 1 hashes to ")
                    && wrongHash.getMessage().contains(", not to " + HeaderTest.CHOPSTICKS_HASH), wrongHash.getMessage());
            ChainUnavailableException wrongNumber = assertThrows(ChainUnavailableException.class,
                    () -> client.blockAt(1, Feeds.PATIENCE));
            assertTrue(wrongNumber.getMessage().contains("the header of block 1 says number 2"), wrongNumber.getMessage());
            assertEquals(2, client.malformedMessages(), "each refused header is counted as malformed");
            Block block = client.blockAt(1, Feeds.PATIENCE);
            assertEquals(HeaderTest.CHOPSTICKS_HASH, block.hash().toHex(), "asked again, its own header is taken");
            assertEquals(2, client.malformedMessages());
        } finally {
            node.stop(1000);
        }
    }

    /** A node that serves block 1's hash, and its header from a script: one header per request, the last one after. */
    private static final class HeaderServer extends LoopbackServer {
        private final List<String> headers;
        private int served;

        HeaderServer(List<String> headers) {
            this.headers = headers;
        }

        @Override
        public synchronized void onMessage(WebSocket socket, String message) {
            try {
                JsonNode request = SubstrateJson.MAPPER.readTree(message);
                ObjectNode answer = SubstrateJson.MAPPER.createObjectNode().put("jsonrpc", "2.0");
                answer.set("id", request.get("id"));
                switch (request.path("method").asText()) {
                    case SubstrateJson.GET_BLOCK_HASH -> answer.put("result", HeaderTest.CHOPSTICKS_HASH);
                    case SubstrateJson.GET_HEADER -> answer.set("result",
                            SubstrateJson.MAPPER.readTree(headers.get(Math.min(served++, headers.size() - 1))));
                    case SubstrateJson.SUBSCRIBE_NEW_HEADS -> answer.put("result", "1");
                    default -> answer.putObject("error").put("code", -32601).put("message", "Method not found");
                }
                socket.send(answer.toString());
            } catch (Exception e) {
                throw new AssertionError(e);
            }
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
