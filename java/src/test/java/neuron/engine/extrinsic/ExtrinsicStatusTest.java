package neuron.engine.extrinsic;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.math.BigInteger;
import java.net.URI;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import neuron.engine.chain.Follow;
import neuron.engine.chain.LoopbackServer;
import neuron.engine.chain.WsChainClient;
import neuron.engine.chain.scale.MetadataV14;
import neuron.engine.chain.scale.TypeRegistry;
import neuron.engine.keys.Ed25519KeyPair;
import org.java_websocket.WebSocket;
import org.junit.jupiter.api.Test;

/**
 * The ends of a submission that chopsticks never produces (a real node's pool does): dropped, invalid, usurped,
 * finality timeout, no news before the deadline, a connection lost while watching, and the 1010 refusals "future"
 * and "payment" as a Substrate node words them. A loopback node plays each; every one is a result, none a throw.
 */
class ExtrinsicStatusTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration PATIENCE = Duration.ofSeconds(30);

    @Test
    void everyEndIsATypedResult() throws Exception {
        Node node = new Node();
        node.start();
        try (WsChainClient chain = WsChainClient.open(URI.create("ws://127.0.0.1:" + node.awaitPort()), Follow.FINALIZED)) {
            ExtrinsicClient client = ExtrinsicClient.connect(chain, "loopback", PATIENCE);
            assertEquals(14, client.metadata().version(), "V15 is refused by this node: V14 it is");

            assertEquals(Submission.Status.DROPPED, submit(client, node, "\"ready\"", "{\"broadcast\":[\"peer\"]}",
                    "\"dropped\"").status());
            assertEquals(Submission.Status.INVALID, submit(client, node, "\"future\"", "\"invalid\"").status());
            Submission usurped = submit(client, node, "\"ready\"", "{\"usurped\":\"0x01\"}");
            assertEquals(Submission.Status.USURPED, usurped.status());
            assertEquals("usurped by 0x01", usurped.detail());
            assertEquals(Submission.Status.FINALITY_TIMEOUT, submit(client, node, "{\"finalityTimeout\":\"0x02\"}").status());
            Submission silent = client.submit(sign(client, 5), true, Duration.ofMillis(500));
            assertEquals(Submission.Status.TIMED_OUT, silent.status(), silent.toString());
            assertNull(silent.inclusion());

            node.script.add(List.of("refuse", "Transaction will be valid in the future"));
            Submission future = client.submit(sign(client, 6), true, PATIENCE);
            assertEquals(Submission.Status.REFUSED, future.status());
            assertEquals(Refusal.FUTURE, future.refusal());
            assertTrue(future.detail().startsWith("1010 Invalid Transaction: \"Transaction will be valid in the future\""),
                    future.detail());
            node.script.add(List.of("refuse", "Inability to pay some fees (e.g. account balance too low)"));
            assertEquals(Refusal.PAYMENT, client.submit(sign(client, 7), true, PATIENCE).refusal());

            node.script.add(List.of("\"ready\"", "close"));
            Submission lost = client.submit(sign(client, 8), true, PATIENCE);
            assertEquals(Submission.Status.UNAVAILABLE, lost.status(), lost.toString());
        } finally {
            node.stop();
        }
    }

    private static Submission submit(ExtrinsicClient client, Node node, String... updates) throws Exception {
        node.script.add(List.of(updates));
        return client.submit(sign(client, node.script.size()), true, PATIENCE);
    }

    private static SignedExtrinsic sign(ExtrinsicClient client, long nonce) {
        Era era = Era.mortal(64, 10);
        return client.signer().sign(Ed25519KeyPair.fromSeed(new byte[32]), "Test.call", new byte[] {0, 0},
                new SigningContext(1, 1, new byte[32], era, 10, new byte[32], nonce, BigInteger.ZERO));
    }

    /** Answers what connecting needs, and each submission with the next scripted updates. */
    private static final class Node extends LoopbackServer {
        final Queue<List<String>> script = new ConcurrentLinkedQueue<>();
        private final String metadata;

        Node() {
            TypeRegistry types = new TypeRegistry();
            int runtime = types.composite(List.of("test", "Runtime"), List.of(), List.of(), List.of());
            metadata = "0x" + HexFormat.of().formatHex(MetadataV14.encode(types, List.of(), runtime, 4, runtime));
        }

        @Override
        public void onMessage(WebSocket socket, String text) {
            try {
                JsonNode request = JSON.readTree(text);
                ObjectNode answer = JSON.createObjectNode().put("jsonrpc", "2.0").set("id", request.get("id"));
                switch (request.path("method").asText()) {
                    case "state_call" -> answer.putObject("error").put("code", -32601).put("message", "no such API");
                    case "state_getMetadata" -> answer.put("result", metadata);
                    case "state_getRuntimeVersion" -> answer.putObject("result").put("specVersion", 1)
                            .put("transactionVersion", 1);
                    case "chain_getBlockHash" -> answer.put("result", "0x" + "00".repeat(32));
                    case "system_properties" -> answer.putObject("result");
                    case "author_submitAndWatchExtrinsic" -> {
                        List<String> updates = script.poll();
                        if (updates != null && updates.get(0).equals("refuse")) {
                            answer.putObject("error").put("code", 1010).put("message", "Invalid Transaction")
                                    .put("data", updates.get(1));
                            socket.send(answer.toString());
                            return;
                        }
                        answer.put("result", "sub");
                        socket.send(answer.toString());
                        for (String update : updates == null ? List.<String>of() : updates) {
                            if (update.equals("close")) {
                                socket.close();
                                return;
                            }
                            socket.send("{\"jsonrpc\":\"2.0\",\"method\":\"author_extrinsicUpdate\",\"params\":"
                                    + "{\"subscription\":\"sub\",\"result\":" + update + "}}");
                        }
                        return;
                    }
                    default -> answer.put("result", "sub"); // head subscriptions, unwatching
                }
                socket.send(answer.toString());
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }
    }
}
