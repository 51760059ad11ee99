package neuron.engine.chain.local.rpc;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.MissingNode;
import java.util.ArrayList;
import java.util.List;

/** One request as a {@link RpcMethod} sees it: its positional params and the session it came on. */
public final class RpcCall {
    private final JsonNode params;
    private final RpcSession session;
    private final List<Runnable> afterAnswer = new ArrayList<>(1);

    RpcCall(JsonNode params, RpcSession session) {
        this.params = params;
        this.session = session;
    }

    /** Positional param {@code index}; a missing node when absent (also for named params, which no method takes). */
    public JsonNode param(int index) {
        return params.isArray() ? params.path(index) : MissingNode.getInstance();
    }

    /** Whether param {@code index} is given and not JSON null (Substrate's optional params may be either). */
    public boolean has(int index) {
        JsonNode param = param(index);
        return !param.isMissingNode() && !param.isNull();
    }

    public RpcSession session() {
        return session;
    }

    /** Runs {@code action} once the answer is sent, e.g. a subscription's first notification, which must follow it. */
    public void afterAnswer(Runnable action) {
        afterAnswer.add(action);
    }

    void answered() {
        afterAnswer.forEach(Runnable::run);
    }
}
