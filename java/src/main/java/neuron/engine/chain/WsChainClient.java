package neuron.engine.chain;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.URI;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SortedMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import neuron.engine.network.ChainUnavailableException;
import neuron.engine.network.ChainWeights;
import neuron.engine.network.Commitment;
import neuron.engine.network.Hash32;
import neuron.engine.network.WindowChain;
import org.java_websocket.client.WebSocketClient;
import org.java_websocket.drafts.Draft_6455;
import org.java_websocket.handshake.ServerHandshake;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A subtensor (Substrate) node over JSON-RPC WebSocket ({@code --chain ws://HOST:PORT}): subscribes to finalized
 * heads (or, {@link Follow#BEST}, to new heads) and gets every block by number: chain_getBlockHash, then
 * chain_getHeader of that hash, checking that the header hashes (BLAKE2b-256 of its SCALE encoding) to exactly the
 * hash asked for and carries the number asked for; a header that does not is refused. Storage is read with
 * state_getStorage at a block's hash. After a drop it reconnects with exponential backoff and resubscribes; the
 * {@link ChainFollower} then fetches what was missed. Malformed messages are logged and ignored; a message larger
 * than {@value #MAX_MESSAGE_BYTES} bytes closes the connection (1009, "too big"), which then reconnects. It also
 * makes the window protocol's calls ({@link WindowRpc}); a node without them (a plain Substrate node) has blocks
 * without commitments.
 */
public final class WsChainClient implements ChainSource, WindowChain {
    private static final Logger log = LoggerFactory.getLogger(WsChainClient.class);
    private static final int CONNECT_TIMEOUT_MS = 5_000;
    /** Pings detect a node that stopped answering without closing the connection. */
    private static final int CONNECTION_LOST_TIMEOUT_S = 30;
    /** How long a window protocol call may take before it counts as unavailable. */
    private static final Duration WINDOW_CALL_TIMEOUT = Duration.ofSeconds(5);
    private static final int METHOD_NOT_FOUND = -32601;
    /** The largest frame or message accepted: a Substrate node's own default response limit (15 MiB) and then some. */
    public static final int MAX_MESSAGE_BYTES = 16 << 20;

    private final URI uri;
    private final Follow follow;
    private final long minBackoffMs;
    private final long maxBackoffMs;
    private final ScheduledExecutorService connector;
    private final Map<Long, CompletableFuture<JsonNode>> pending = new ConcurrentHashMap<>();
    /** Subscriptions made with {@link #subscribe}, by the id the node gave them. */
    private final Map<String, Consumer<JsonNode>> subscriptions = new ConcurrentHashMap<>();
    private final AtomicLong ids = new AtomicLong();
    private final AtomicLong gapsDetected = new AtomicLong();
    private final AtomicLong malformedMessages = new AtomicLong();
    private volatile boolean hasWindowMethods = true;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    // guarded by lock
    private Connection connection;
    private long head = -1;
    private long lastAnnounced = -1;
    private long backoffMs;
    private boolean closed;

    private WsChainClient(URI uri, Follow follow, Duration minBackoff, Duration maxBackoff) {
        this.uri = uri;
        this.follow = follow;
        this.minBackoffMs = Math.max(1, minBackoff.toMillis());
        this.maxBackoffMs = Math.max(minBackoffMs, maxBackoff.toMillis());
        this.backoffMs = minBackoffMs;
        this.connector = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "ws-chain-connect " + uri);
            t.setDaemon(true);
            return t;
        });
    }

    /** Starts connecting in the background (retrying with backoff from 100 ms to 5 s) and returns at once. */
    public static WsChainClient open(URI uri, Follow follow) {
        return open(uri, follow, Duration.ofMillis(100), Duration.ofSeconds(5));
    }

    public static WsChainClient open(URI uri, Follow follow, Duration minBackoff, Duration maxBackoff) {
        String scheme = uri.getScheme();
        if (!"ws".equals(scheme) && !"wss".equals(scheme)) {
            throw new IllegalArgumentException("a chain endpoint is ws://HOST:PORT or wss://HOST:PORT, got " + uri);
        }
        WsChainClient client = new WsChainClient(uri, follow, minBackoff, maxBackoff);
        client.connector.execute(client::connect);
        return client;
    }

    @Override
    public long head() {
        lock.lock();
        try {
            return head;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public boolean awaitHead(long number, Duration timeout) throws InterruptedException {
        long left = timeout.toNanos();
        lock.lock();
        try {
            while (!closed && head < number && left > 0) {
                left = changed.awaitNanos(left);
            }
            return head >= number;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public Block blockAt(long number, Duration timeout) throws ChainUnavailableException, InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        JsonNode hash = call(SubstrateJson.GET_BLOCK_HASH, deadline, number);
        if (hash.isNull()) {
            throw new ChainUnavailableException(uri + " has no block " + number);
        }
        JsonNode header = call(SubstrateJson.GET_HEADER, deadline, hash.asText());
        try {
            Hash32 asked = Hash32.parseHex(hash.asText(null));
            Header received = Header.fromJson(header);
            if (received.number() != number) {
                throw new IllegalArgumentException("the header of block " + number + " says number " + received.number());
            }
            Block block = received.block();
            if (!block.hash().equals(asked)) {
                throw new IllegalArgumentException("the header of block " + number + " hashes to " + block.hash()
                        + ", not to " + asked);
            }
            return new Block(number, block.hash(), block.parentHash(), commitments(number, block.hash(), deadline));
        } catch (IllegalArgumentException e) {
            malformedMessages.incrementAndGet();
            throw new ChainUnavailableException("refused the answer from " + uri + " for block " + number + ": "
                    + e.getMessage(), e);
        }
    }

    @Override
    public byte[] storage(byte[] key, Block at, Duration timeout) throws ChainUnavailableException, InterruptedException {
        JsonNode value = call("state_getStorage", System.nanoTime() + timeout.toNanos(), hex(key), at.hash().toHex());
        try {
            return value.isNull() ? null : Header.hexBytes(value);
        } catch (IllegalArgumentException e) {
            malformedMessages.incrementAndGet();
            throw new ChainUnavailableException("refused the storage value from " + uri + ": " + e.getMessage(), e);
        }
    }

    /** The window protocol's commitments of a block; none on a node that does not know the method. */
    private List<Commitment> commitments(long number, Hash32 hash, long deadline)
            throws ChainUnavailableException, InterruptedException {
        if (!hasWindowMethods) {
            return List.of();
        }
        JsonNode msg = answer(WindowRpc.COMMITMENTS, deadline, number);
        if (msg.path("error").path("code").asInt() == METHOD_NOT_FOUND) {
            hasWindowMethods = false;
            log.info("{} has no {}: its blocks carry no window protocol commitments", uri, WindowRpc.COMMITMENTS);
            return List.of();
        }
        return WindowRpc.commitmentsOf(result(WindowRpc.COMMITMENTS, msg), number, hash);
    }

    @Override
    public void commit(Commitment commitment) throws ChainUnavailableException, InterruptedException {
        call(WindowRpc.COMMIT, windowCallDeadline(), WindowRpc.commitment(commitment));
    }

    @Override
    public void setWeights(int validatorUid, SortedMap<Integer, Integer> values)
            throws ChainUnavailableException, InterruptedException {
        call(WindowRpc.SET_WEIGHTS, windowCallDeadline(), validatorUid, WindowRpc.weightValues(values));
    }

    @Override
    public Optional<ChainWeights> weights(int validatorUid) throws ChainUnavailableException, InterruptedException {
        JsonNode result = call(WindowRpc.WEIGHTS, windowCallDeadline(), validatorUid);
        try {
            return result.isNull() ? Optional.empty() : Optional.of(WindowRpc.weights(result));
        } catch (IllegalArgumentException e) {
            malformedMessages.incrementAndGet();
            throw new ChainUnavailableException("malformed weights from " + uri + ": " + e.getMessage(), e);
        }
    }

    private static long windowCallDeadline() {
        return System.nanoTime() + WINDOW_CALL_TIMEOUT.toNanos();
    }

    /**
     * Sends any JSON-RPC request and returns the node's whole answer, its {@code result} or its {@code error}, so that
     * a caller can tell a refusal from an outage; no answer in time or a lost connection is "unavailable".
     */
    public JsonNode request(String method, Duration timeout, Object... params)
            throws ChainUnavailableException, InterruptedException {
        return answer(method, System.nanoTime() + timeout.toNanos(), params);
    }

    /**
     * Sends a subscribing request and returns its answer. When that is a subscription id, each notification of it
     * goes to {@code updates} (its {@code params.result}, in the order the node sent them, on the client's thread)
     * until {@link #unsubscribe}; a lost connection ends it with one {@code null}.
     */
    public JsonNode subscribe(String method, Duration timeout, Consumer<JsonNode> updates, Object... params)
            throws ChainUnavailableException, InterruptedException {
        // registered before the answer can arrive, so no notification that follows it is missed
        return exchange(method, System.nanoTime() + timeout.toNanos(), msg -> {
            JsonNode subscription = msg.path("result");
            if (subscription.isTextual() || subscription.isIntegralNumber()) {
                subscriptions.put(subscription.asText(), updates);
            }
        }, params);
    }

    /** Stops delivering a subscription's notifications and tells the node with {@code method} (best effort). */
    public void unsubscribe(String method, JsonNode subscription) {
        if (subscriptions.remove(subscription.asText()) == null) {
            return;
        }
        lock.lock();
        Connection via;
        try {
            via = connection;
        } finally {
            lock.unlock();
        }
        if (via != null) {
            try {
                via.send(SubstrateJson.request(ids.incrementAndGet(), method, subscription));
            } catch (RuntimeException e) { // closed meanwhile: the node forgets the subscription anyway
                log.debug("could not send {} to {}: {}", method, uri, e.toString());
            }
        }
    }

    /** Head announcements that skipped numbers (missed notifications, reconnects): each was fetched by number. */
    public long gapsDetected() {
        return gapsDetected.get();
    }

    /** Messages that were not valid JSON-RPC or not what was asked: logged and ignored. */
    public long malformedMessages() {
        return malformedMessages.get();
    }

    public boolean isConnected() {
        lock.lock();
        try {
            return connection != null;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void close() {
        Connection toClose;
        lock.lock();
        try {
            closed = true;
            toClose = connection;
            connection = null;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        connector.shutdownNow();
        if (toClose != null) {
            toClose.close();
        }
        failPending("client closed");
    }

    private void connect() {
        Connection attempt = new Connection();
        boolean open;
        try {
            open = attempt.connectBlocking(CONNECT_TIMEOUT_MS, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
        }
        lock.lock();
        try {
            if (closed) {
                attempt.close();
                return;
            }
            open = open && attempt.isOpen(); // it may have closed again before we got here
            if (open) {
                connection = attempt;
                backoffMs = minBackoffMs;
                changed.signalAll();
            }
        } finally {
            lock.unlock();
        }
        if (open) {
            log.info("connected to {}", uri);
            subscribe(attempt);
        } else {
            reconnectLater("could not connect");
        }
    }

    private void subscribe(Connection via) {
        long id = ids.incrementAndGet();
        CompletableFuture<JsonNode> answer = new CompletableFuture<>();
        pending.put(id, answer);
        answer.thenAccept(msg -> { // a failed future means the connection dropped, which reconnects anyway
            if (msg.has("error")) {
                log.warn("{} refused the heads subscription: {}; reconnecting", uri, msg.get("error"));
                via.close();
            }
        });
        via.send(SubstrateJson.request(id, follow == Follow.BEST
                ? SubstrateJson.SUBSCRIBE_NEW_HEADS : SubstrateJson.SUBSCRIBE_FINALIZED_HEADS));
    }

    private void reconnectLater(String why) {
        long delay;
        lock.lock();
        try {
            if (closed) {
                return;
            }
            delay = backoffMs;
            backoffMs = Math.min(maxBackoffMs, backoffMs * 2);
        } finally {
            lock.unlock();
        }
        log.warn("{} {}; reconnecting in {} ms", why, uri, delay);
        connector.schedule(this::connect, delay, TimeUnit.MILLISECONDS);
    }

    private void onDisconnected(Connection lost, int code, String reason) {
        lock.lock();
        try {
            if (connection != lost) {
                return;
            }
            connection = null;
        } finally {
            lock.unlock();
        }
        failPending("connection lost");
        List.copyOf(subscriptions.values()).forEach(updates -> updates.accept(null));
        subscriptions.clear();
        reconnectLater("connection lost (" + code + (reason == null || reason.isEmpty() ? "" : " " + reason) + ") to");
    }

    private void onHeadAnnounced(long number) {
        lock.lock();
        try {
            // finality may jump several blocks at once; best heads should come one by one
            if (follow == Follow.BEST && lastAnnounced >= 0 && number > lastAnnounced + 1) {
                gapsDetected.incrementAndGet();
                log.warn("gap in the heads announced by {}: {} after {}; blocks {}..{} will be fetched by number",
                        uri, number, lastAnnounced, lastAnnounced + 1, number - 1);
            }
            lastAnnounced = number;
            head = number;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    private void onText(String text) {
        try {
            JsonNode msg = SubstrateJson.MAPPER.readTree(text);
            JsonNode id = msg.path("id");
            if (id.canConvertToLong()) {
                CompletableFuture<JsonNode> answer = pending.remove(id.asLong());
                if (answer != null) {
                    answer.complete(msg);
                    return;
                }
            }
            String method = msg.path("method").asText("");
            Consumer<JsonNode> updates = subscriptions.get(msg.path("params").path("subscription").asText("\0"));
            if (updates != null) {
                updates.accept(msg.path("params").path("result"));
                return;
            }
            if (method.equals(follow == Follow.BEST ? SubstrateJson.NEW_HEAD : SubstrateJson.FINALIZED_HEAD)) {
                onHeadAnnounced(SubstrateJson.number(msg.path("params").path("result").path("number")));
                return;
            }
            throw new IllegalArgumentException("neither an answer to a request nor a head notification");
        } catch (Exception e) { // anything a node sends must not stop the client
            malformedMessages.incrementAndGet();
            log.warn("ignoring a malformed message from {}: {} ({})", uri, abbreviate(text), e.getMessage());
        }
    }

    /** Sends a request and waits for its result; a JSON-RPC error, a drop or no answer in time is "unavailable". */
    private JsonNode call(String method, long deadline, Object... params)
            throws ChainUnavailableException, InterruptedException {
        return result(method, answer(method, deadline, params));
    }

    private JsonNode result(String method, JsonNode msg) throws ChainUnavailableException {
        if (msg.has("error")) {
            throw new ChainUnavailableException(uri + " answered " + method + " with " + msg.get("error"));
        }
        if (!msg.has("result")) {
            malformedMessages.incrementAndGet();
            throw new ChainUnavailableException(uri + " answered " + method + " without a result");
        }
        return msg.get("result");
    }

    /** Sends a request and waits for the answer (a result or an error); a drop or no answer in time is "unavailable". */
    private JsonNode answer(String method, long deadline, Object... params)
            throws ChainUnavailableException, InterruptedException {
        return exchange(method, deadline, null, params);
    }

    /** {@link #answer}, with {@code onAnswer} (if not null) run on the client's thread as the answer arrives. */
    private JsonNode exchange(String method, long deadline, Consumer<JsonNode> onAnswer, Object... params)
            throws ChainUnavailableException, InterruptedException {
        Connection via = awaitConnection(deadline);
        long id = ids.incrementAndGet();
        CompletableFuture<JsonNode> answer = new CompletableFuture<>();
        if (onAnswer != null) {
            answer.thenAccept(onAnswer);
        }
        pending.put(id, answer);
        try {
            via.send(SubstrateJson.request(id, method, params));
            return answer.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            throw new ChainUnavailableException("no answer to " + method + " from " + uri + " in time");
        } catch (ExecutionException e) {
            throw new ChainUnavailableException(method + " to " + uri + ": " + e.getCause().getMessage());
        } catch (RuntimeException e) { // Java-WebSocket throws when the connection closed under us
            throw new ChainUnavailableException(method + " to " + uri + ": " + e.getMessage(), e);
        } finally {
            pending.remove(id);
        }
    }

    private Connection awaitConnection(long deadline) throws ChainUnavailableException, InterruptedException {
        lock.lock();
        try {
            while (!closed && connection == null) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    break;
                }
                changed.awaitNanos(left);
            }
            if (connection == null) {
                throw new ChainUnavailableException(closed ? "client closed" : "not connected to " + uri);
            }
            return connection;
        } finally {
            lock.unlock();
        }
    }

    private void failPending(String why) {
        ChainUnavailableException failure = new ChainUnavailableException(why);
        pending.values().forEach(answer -> answer.completeExceptionally(failure));
        pending.clear();
    }

    private static String hex(byte[] bytes) {
        return "0x" + HexFormat.of().formatHex(bytes);
    }

    private static String abbreviate(String text) {
        return text.length() <= 200 ? text : text.substring(0, 200) + "…";
    }

    /** One WebSocket connection; a new one per (re)connect, as Java-WebSocket clients are not reusable from callbacks. */
    private final class Connection extends WebSocketClient {
        Connection() {
            super(WsChainClient.this.uri, new Draft_6455(List.of(), MAX_MESSAGE_BYTES));
            setConnectionLostTimeout(CONNECTION_LOST_TIMEOUT_S);
        }

        @Override
        public void onOpen(ServerHandshake handshake) {
            // the subscription is sent once the connection is published, see connect()
        }

        @Override
        public void onMessage(String text) {
            onText(text);
        }

        @Override
        public void onClose(int code, String reason, boolean remote) {
            onDisconnected(this, code, reason);
        }

        @Override
        public void onError(Exception e) {
            log.debug("WebSocket error on {}: {}", uri, e.toString());
        }
    }
}
