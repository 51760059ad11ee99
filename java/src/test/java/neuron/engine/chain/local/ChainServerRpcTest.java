package neuron.engine.chain.local;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.math.BigInteger;
import java.net.InetSocketAddress;
import java.util.List;
import neuron.engine.chain.Header;
import neuron.engine.chain.RpcClient;
import neuron.engine.chain.RpcErrors;
import neuron.engine.chain.StorageKeys;
import neuron.engine.chain.scale.ScaleReader;
import neuron.engine.network.Hash32;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The server's Substrate methods over a real WebSocket: answers, errors, subscriptions and their names. */
class ChainServerRpcTest {
    private static final long BLOCK_TIME_MS = 20;
    private ChainServer server;
    private RpcClient client;

    @BeforeEach
    void start() throws Exception {
        server = ChainServer.start(new LocalChain("rpc-test", BLOCK_TIME_MS, 0), new InetSocketAddress("127.0.0.1", 0));
        client = new RpcClient(server.uri());
    }

    @AfterEach
    void stop() throws Exception {
        client.close();
        server.close();
    }

    @Test
    void servesWhatPolkadotJsAndAValidatorAsk() throws Exception {
        JsonNode methods = client.call("rpc_methods").at("/result/methods");
        for (String method : List.of("state_getRuntimeVersion", "system_chain", "system_properties", "state_call",
                "state_getMetadata", "state_subscribeRuntimeVersion", "chain_subscribeNewHead", "chain_subscribeNewHeads",
                "chain_unsubscribeNewHeads", "chain_subscribeFinalizedHeads", "chain_unsubscribeFinalizedHeads",
                "chain_getBlock", "chain_getBlockHash", "chain_getHeader", "chain_getFinalizedHead", "system_health",
                "state_getStorage", "state_queryStorageAt", "state_subscribeStorage")) {
            assertTrue(methods.toString().contains("\"" + method + "\""), method + " in " + methods);
        }
        assertEquals("Neuron Local", client.call("system_chain").get("result").asText());
        assertEquals("neuron-local", client.call("state_getRuntimeVersion").at("/result/specName").asText());
        String metadata = client.call("state_getMetadata").get("result").asText();
        assertTrue(metadata.startsWith("0x6d6574610e"), "magic 'meta' and version 14: " + metadata.substring(0, 12));
        assertEquals("0x040e000000", client.call("state_call", "Metadata_metadata_versions", "0x")
                .get("result").asText(), "Vec<u32> [14]");
        assertEquals(RpcErrors.INVALID_PARAMS, client.call("state_call", "Nope_nope", "0x").at("/error/code").asInt());
        assertFalse(client.call("system_health").at("/result/isSyncing").asBoolean());

        String head = client.call("chain_getBlockHash").get("result").asText();
        JsonNode header = client.call("chain_getHeader", head).get("result");
        assertEquals(head, Header.fromJson(header).hash().toHex(), "a header hashes to its block's hash");
        JsonNode block = client.call("chain_getBlock", head).at("/result/block");
        assertEquals(header, block.get("header"));
        assertEquals(1, block.get("extrinsics").size(), "the timestamp inherent");
        long number = Header.fromJson(header).number();
        JsonNode now = client.call("state_getStorage", "0x" + java.util.HexFormat.of().formatHex(StorageKeys.timestampNow()),
                head).get("result");
        assertEquals(LocalRuntime.GENESIS_TIME_MS + number * BLOCK_TIME_MS,
                new ScaleReader(Header.hexBytes(now)).u64(), "Timestamp.Now at the block");
        String finalized = client.call("chain_getFinalizedHead").get("result").asText();
        long finalNumber = Header.fromJson(client.call("chain_getHeader", finalized).get("result")).number();
        long headNow = Header.fromJson(client.call("chain_getHeader").get("result")).number();
        assertTrue(finalNumber >= number - LocalChain.FINALITY_LAG && finalNumber <= headNow - LocalChain.FINALITY_LAG,
                "finality is two blocks behind the head: " + number + " " + finalNumber + " " + headNow);
    }

    @Test
    void subscriptionsUseSubstratesNotificationNamesAndEndWithUnsubscribe() throws Exception {
        String best = client.call("chain_subscribeNewHead").get("result").asText();
        String finalized = client.call("chain_subscribeFinalizedHeads").get("result").asText();
        String version = client.call("state_subscribeRuntimeVersion").get("result").asText();
        assertEquals(version, client.notification("state_runtimeVersion").get("subscription").asText());
        JsonNode newHead = client.notification("chain_newHead");
        assertEquals(best, newHead.get("subscription").asText());
        JsonNode finalHead = client.notification("chain_finalizedHead");
        assertEquals(finalized, finalHead.get("subscription").asText());
        assertTrue(Header.fromJson(finalHead.get("result")).number() < Header.fromJson(newHead.get("result")).number()
                || Header.fromJson(newHead.get("result")).number() < LocalChain.FINALITY_LAG);
        assertTrue(client.call("chain_unsubscribeNewHeads", best).get("result").asBoolean());
        assertFalse(client.call("chain_unsubscribeNewHeads", best).get("result").asBoolean(), "only once");
        assertTrue(client.call("chain_unsubscribeFinalizedHeads", finalized).get("result").asBoolean());
    }

    @Test
    void outOfRangeBlockNumbersAreInvalidParamsWithoutInternalText() throws Exception {
        BigInteger twoTo64 = BigInteger.ONE.shiftLeft(64);
        for (Object number : List.of(twoTo64, -1, BigInteger.ONE.shiftLeft(63), 1L << 32, "0x10000000000000000",
                "0x100000000", 1.5, "12", "0x", true)) {
            JsonNode answer = client.call("chain_getBlockHash", number);
            assertEquals(RpcErrors.INVALID_PARAMS, answer.at("/error/code").asInt(), number + ": " + answer);
            String message = answer.at("/error/message").asText();
            for (String internal : List.of("Exception", "null", "java.", "neuron.")) {
                assertFalse(message.contains(internal), number + ": " + message);
            }
        }
        assertTrue(client.call("chain_getBlockHash", 0xFFFF_FFFFL).get("result").isNull(), "in range, not made yet");
        assertEquals(server.chain().block(0).hash().toHex(), client.call("chain_getBlockHash", 0).get("result").asText());
        assertEquals(server.chain().block(0).hash().toHex(), client.call("chain_getBlockHash", "0x0").get("result").asText());
    }

    @Test
    void unknownMethodsAndMalformedRequestsGetErrorsAndTheConnectionStays() throws Exception {
        assertEquals(-32601, client.call("chain_nope").at("/error/code").asInt());
        assertEquals(-32700, client.ask("{not json", null).at("/error/code").asInt());
        assertEquals(-32600, client.ask("{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":[1]}", 9).at("/error/code").asInt());
        assertEquals(RpcErrors.INVALID_PARAMS, client.call("chain_getHeader", "0x1234").at("/error/code").asInt());
        assertEquals(RpcErrors.INVALID_PARAMS, client.call("state_getStorage", "zz").at("/error/code").asInt());
        assertTrue(client.call("chain_getHeader", Hash32.ZERO.toHex()).get("result").isNull(), "an unknown block");
        assertEquals("Neuron Local", client.call("system_chain").get("result").asText(), "still connected");
        assertFalse(client.closed.isDone());
    }
}
