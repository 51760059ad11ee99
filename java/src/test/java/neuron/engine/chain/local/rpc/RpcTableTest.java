package neuron.engine.chain.local.rpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.TextNode;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Dispatch through the table: every request gets its result or the JSON-RPC error the spec names. */
class RpcTableTest {

    /** Collects what the table sends. */
    static final class Recorder extends RpcSession {
        final List<JsonNode> sent = new ArrayList<>();
        String closedWith;

        @Override
        public void send(String text) {
            try {
                sent.add(RpcTable.MAPPER.readTree(text));
            } catch (Exception e) {
                throw new AssertionError("the table sent invalid JSON: " + text, e);
            }
        }

        @Override
        public void close(String reason) {
            closedWith = reason;
        }

        JsonNode last() {
            return sent.get(sent.size() - 1);
        }
    }

    private static RpcTable table() {
        RpcTable table = new RpcTable();
        table.register("echo", call -> call.param(0));
        table.register("fails", call -> {
            throw new NullPointerException("internal detail");
        });
        table.register("refuses", call -> {
            throw RpcException.invalidParams("no");
        });
        return table;
    }

    private static JsonNode ask(RpcTable table, String text) {
        Recorder session = new Recorder();
        table.handle(session, text);
        assertEquals(1, session.sent.size(), "one answer to " + text);
        return session.last();
    }

    @Test
    void aRegisteredMethodAnswersWithItsResultAndTheRequestsId() {
        JsonNode answer = ask(table(), "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"echo\",\"params\":[\"hi\"]}");
        assertEquals(7, answer.get("id").asInt());
        assertEquals("hi", answer.get("result").asText());
        assertEquals("2.0", answer.get("jsonrpc").asText());
    }

    @Test
    void errorsCarryTheSpecsCodesAndNoInternalText() {
        RpcTable table = table();
        assertEquals(-32601, ask(table, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"nope\"}").at("/error/code").asInt());
        assertEquals(-32700, ask(table, "{not json").at("/error/code").asInt());
        assertEquals(-32600, ask(table, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":5}").at("/error/code").asInt());
        assertEquals(-32600, ask(table, "{\"id\":1,\"method\":\"echo\"}").at("/error/code").asInt(), "no jsonrpc 2.0");
        assertEquals(-32600, ask(table, "[]").at("/error/code").asInt());
        assertEquals(-32600, ask(table, "42").at("/error/code").asInt());
        assertEquals(-32602, ask(table, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"refuses\"}").at("/error/code").asInt());
        JsonNode internal = ask(table, "{\"jsonrpc\":\"2.0\",\"id\":\"x\",\"method\":\"fails\"}");
        assertEquals(-32603, internal.at("/error/code").asInt());
        assertEquals("x", internal.get("id").asText());
        assertFalse(internal.toString().contains("internal detail"), internal.toString());
        assertFalse(internal.toString().contains("NullPointer"), internal.toString());
    }

    @Test
    void aBatchGetsOneArrayOfAnswersAndANotificationNone() {
        Recorder session = new Recorder();
        table().handle(session, "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"echo\",\"params\":[1]},"
                + "{\"jsonrpc\":\"2.0\",\"method\":\"echo\",\"params\":[2]},"
                + "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"nope\"}]");
        assertEquals(1, session.sent.size());
        JsonNode answers = session.last();
        assertEquals(2, answers.size(), answers.toString());
        assertEquals(1, answers.get(0).get("result").asInt());
        assertEquals(-32601, answers.get(1).at("/error/code").asInt());

        Recorder quiet = new Recorder();
        table().handle(quiet, "{\"jsonrpc\":\"2.0\",\"method\":\"echo\",\"params\":[2]}");
        assertTrue(quiet.sent.isEmpty(), "a notification gets no answer");
    }

    @Test
    void aMethodNameIsRegisteredOnce() {
        RpcTable table = table();
        assertThrows(IllegalStateException.class, () -> table.register("echo", call -> null));
        assertEquals(List.of("echo", "fails", "refuses"), table.names());
    }

    @Test
    void subscriptionsNotifyAfterTheAnswerAndAreBoundedPerSession() {
        RpcTable table = new RpcTable();
        Subscriptions heads = table.topic("test_head");
        table.register("test_subscribe", call -> {
            String id = heads.subscribe(call.session());
            call.afterAnswer(() -> heads.send(call.session(), id, TextNode.valueOf("first")));
            return TextNode.valueOf(id);
        });
        table.register("test_unsubscribe", call -> com.fasterxml.jackson.databind.node.BooleanNode.valueOf(
                heads.unsubscribe(call.session(), call.param(0).asText())));
        Recorder session = new Recorder();
        table.handle(session, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"test_subscribe\"}");
        String id = session.sent.get(0).get("result").asText();
        assertEquals("test_head", session.sent.get(1).get("method").asText(), "the first notification follows the answer");
        assertEquals(id, session.sent.get(1).at("/params/subscription").asText());
        heads.publish(TextNode.valueOf("next"));
        assertEquals("next", session.last().at("/params/result").asText());

        for (int i = 1; i < RpcSession.MAX_SUBSCRIPTIONS; i++) {
            table.handle(session, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"test_subscribe\"}");
        }
        table.handle(session, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"test_subscribe\"}");
        assertEquals(RpcException.LIMIT_EXCEEDED, session.last().at("/error/code").asInt(), session.last().toString());
        table.handle(session, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"test_unsubscribe\",\"params\":[\"" + id + "\"]}");
        assertTrue(session.last().get("result").asBoolean());
        table.handle(session, "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"test_subscribe\"}");
        assertTrue(session.sent.get(session.sent.size() - 2).get("result").isTextual(), "room again after an unsubscribe");

        table.closed(session);
        int before = session.sent.size();
        heads.publish(TextNode.valueOf("after close"));
        assertEquals(before, session.sent.size(), "a closed session's subscriptions end");
    }
}
