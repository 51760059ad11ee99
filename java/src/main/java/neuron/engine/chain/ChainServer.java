package neuron.engine.chain;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.TextNode;
import java.io.IOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.java_websocket.WebSocket;
import org.java_websocket.handshake.ClientHandshake;
import org.java_websocket.server.WebSocketServer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The embedded {@link LocalChain} served over Substrate JSON-RPC WebSocket, the protocol a subtensor node speaks
 * ({@code bin/neuron chain}): chain_subscribeNewHeads / chain_subscribeFinalizedHeads (every block is final here),
 * chain_getBlockHash and chain_getHeader. Several miners and validators can follow one chain through it.
 */
public final class ChainServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ChainServer.class);
    private static final Duration START_TIMEOUT = Duration.ofSeconds(10);
    /** Hashes of recently served blocks, for chain_getHeader(hash): the hash alone does not give the number. */
    private static final int KNOWN_HASHES = 100_000;

    private final LocalChain chain;
    private final WindowRpcHandler window;
    private final Server server;
    private final Thread announcer;
    private final Map<WebSocket, String> subscriptions = new ConcurrentHashMap<>();
    private final Map<Hash32, Block> known = new LinkedHashMap<>(16, 0.75f, false) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Hash32, Block> eldest) {
            return size() > KNOWN_HASHES;
        }
    };
    private final AtomicInteger subscriptionIds = new AtomicInteger();
    private final AtomicInteger announcementsToSkip = new AtomicInteger();
    private volatile boolean closed;

    private ChainServer(LocalChain chain, InetSocketAddress address) {
        this.chain = chain;
        this.window = new WindowRpcHandler(chain);
        this.server = new Server(address);
        this.announcer = new Thread(this::announceHeads, "chain-server-announcer");
        announcer.setDaemon(true);
    }

    /**
     * Binds and starts serving {@code chain} (which the server then owns and closes). Port 0 picks a free port.
     *
     * @throws BindException when the address is in use or cannot be bound
     */
    public static ChainServer start(LocalChain chain, InetSocketAddress address) throws IOException, InterruptedException {
        ChainServer chainServer = new ChainServer(chain, address);
        chainServer.server.setReuseAddr(true); // a restarted server gets its port back at once
        chainServer.server.setDaemon(true);
        chainServer.server.start();
        try {
            chainServer.server.awaitStarted();
        } catch (IOException | InterruptedException e) {
            chain.close();
            throw e;
        }
        chainServer.announcer.start();
        log.info("serving the local chain at {}", chainServer.uri());
        return chainServer;
    }

    public int port() {
        return server.getPort();
    }

    public URI uri() {
        return URI.create("ws://" + server.getAddress().getHostString() + ":" + port());
    }

    public LocalChain chain() {
        return chain;
    }

    /** Test hook: the next {@code count} new heads are not announced, so subscribers see a gap. */
    public void skipAnnouncements(int count) {
        announcementsToSkip.addAndGet(count);
    }

    @Override
    public void close() throws InterruptedException {
        closed = true;
        announcer.interrupt();
        server.stop((int) START_TIMEOUT.toMillis());
        announcer.join(START_TIMEOUT.toMillis());
        chain.close();
    }

    /** Announces each new head in turn; after a reorganisation the replacing head is announced at its next block. */
    private void announceHeads() {
        long announced = chain.head();
        try {
            while (!closed) {
                if (!chain.awaitHead(announced + 1, Duration.ofMillis(200))) {
                    continue;
                }
                long head = chain.head();
                for (long n = announced + 1; n <= head; n++) {
                    if (announcementsToSkip.getAndUpdate(k -> Math.max(0, k - 1)) == 0) {
                        announce(chain.block(n));
                    }
                }
                announced = head;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void announce(Block block) {
        remember(block);
        subscriptions.forEach((socket, id) -> sendQuietly(socket,
                SubstrateJson.notification(SubstrateJson.NEW_HEAD, id, SubstrateJson.header(block))));
    }

    private void onRequest(WebSocket socket, String text) {
        JsonNode id = NullNode.getInstance();
        try {
            JsonNode msg = SubstrateJson.MAPPER.readTree(text);
            id = msg.path("id").isMissingNode() ? NullNode.getInstance() : msg.get("id");
            JsonNode params = msg.path("params");
            String method = msg.path("method").asText("");
            switch (method) {
                case SubstrateJson.SUBSCRIBE_NEW_HEADS, SubstrateJson.SUBSCRIBE_FINALIZED_HEADS -> {
                    String subscription = Integer.toString(subscriptionIds.incrementAndGet());
                    sendQuietly(socket, SubstrateJson.result(id, TextNode.valueOf(subscription)));
                    // like a node, start with the current head; later heads come from the announcer
                    Block head = chain.block(chain.head());
                    remember(head);
                    sendQuietly(socket, SubstrateJson.notification(SubstrateJson.NEW_HEAD, subscription,
                            SubstrateJson.header(head)));
                    subscriptions.put(socket, subscription);
                }
                case SubstrateJson.GET_BLOCK_HASH -> {
                    long head = chain.head();
                    long number = params.path(0).isMissingNode() || params.path(0).isNull()
                            ? head : SubstrateJson.number(params.path(0));
                    JsonNode hash = NullNode.getInstance();
                    if (number <= head) {
                        Block block = chain.block(number);
                        remember(block);
                        hash = TextNode.valueOf(block.hash().toHex());
                    }
                    sendQuietly(socket, SubstrateJson.result(id, hash));
                }
                case SubstrateJson.GET_HEADER -> {
                    JsonNode hash = params.path(0);
                    Block block = hash.isMissingNode() || hash.isNull()
                            ? chain.block(chain.head()) : lookUp(Hash32.parseHex(hash.asText()));
                    sendQuietly(socket, SubstrateJson.result(id,
                            block == null ? NullNode.getInstance() : SubstrateJson.header(block)));
                }
                default -> sendQuietly(socket, WindowRpcHandler.METHODS.contains(method)
                        ? SubstrateJson.result(id, window.handle(method, params))
                        : SubstrateJson.error(id, -32601, "Method not found"));
            }
        } catch (IOException | ChainUnavailableException | RuntimeException e) { // a bad request gets an error answer, never a crash
            log.debug("bad request {}: {}", text, e.toString());
            sendQuietly(socket, SubstrateJson.error(id, -32602, "Invalid request: " + e.getMessage()));
        }
    }

    private void remember(Block block) {
        synchronized (known) {
            known.put(block.hash(), block);
        }
    }

    private Block lookUp(Hash32 hash) {
        synchronized (known) {
            return known.get(hash);
        }
    }

    private static void sendQuietly(WebSocket socket, String text) {
        if (socket.isOpen()) {
            try {
                socket.send(text);
            } catch (RuntimeException e) { // closed between the check and the send: its close handler cleans up
                log.debug("send failed: {}", e.toString());
            }
        }
    }

    private final class Server extends WebSocketServer {
        private final CountDownLatch started = new CountDownLatch(1);
        private final AtomicReference<Exception> startFailure = new AtomicReference<>();

        Server(InetSocketAddress address) {
            super(address);
        }

        void awaitStarted() throws IOException, InterruptedException {
            if (!started.await(START_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new IOException("the chain server did not start within " + START_TIMEOUT);
            }
            Exception failure = startFailure.get();
            if (failure != null) {
                BindException bind = new BindException("cannot serve on " + getAddress().getHostString() + ":"
                        + getAddress().getPort() + ": " + failure.getMessage());
                bind.initCause(failure);
                throw bind;
            }
        }

        @Override
        public void onStart() {
            started.countDown();
        }

        @Override
        public void onOpen(WebSocket socket, ClientHandshake handshake) {
            log.debug("subscriber connected from {}", socket.getRemoteSocketAddress());
        }

        @Override
        public void onClose(WebSocket socket, int code, String reason, boolean remote) {
            subscriptions.remove(socket);
        }

        @Override
        public void onMessage(WebSocket socket, String text) {
            onRequest(socket, text);
        }

        @Override
        public void onError(WebSocket socket, Exception e) {
            if (socket == null) { // the server itself failed, e.g. the port is in use
                startFailure.compareAndSet(null, e);
                started.countDown();
            } else {
                log.debug("WebSocket error with {}: {}", socket.getRemoteSocketAddress(), e.toString());
            }
        }
    }
}
