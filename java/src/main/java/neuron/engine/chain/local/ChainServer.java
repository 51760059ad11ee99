package neuron.engine.chain.local;

import java.io.IOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import neuron.engine.chain.local.rpc.RpcSession;
import neuron.engine.chain.local.rpc.RpcTable;
import org.java_websocket.WebSocket;
import org.java_websocket.WebSocketImpl;
import org.java_websocket.drafts.Draft_6455;
import org.java_websocket.framing.CloseFrame;
import org.java_websocket.handshake.ClientHandshake;
import org.java_websocket.server.WebSocketServer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The embedded {@link LocalChain} served over Substrate JSON-RPC WebSocket, the protocol a subtensor node speaks
 * ({@code bin/neuron chain}). Requests go through one {@link RpcTable}, which handler classes fill with their
 * methods ({@link SubstrateRpc}: the Substrate node methods; {@link WindowRpcHandler}: the window protocol's). Several miners and validators can follow one chain
 * through it.
 *
 * <p>What a client can make the server hold is bounded: a frame or message above {@value #MAX_MESSAGE_BYTES}
 * bytes closes its connection (1009, "too big") before it is buffered, a handshake above
 * {@value #MAX_HANDSHAKE_BYTES} bytes drops it, a client that lets {@value #MAX_QUEUED_MESSAGES} answers and
 * notifications pile up unread is closed (1008), and at most {@value #MAX_CONNECTIONS} connections are served.
 */
public final class ChainServer implements AutoCloseable {
    /** Substrate requests are small: a batch of a few dozen calls, an extrinsic. */
    static final int MAX_MESSAGE_BYTES = 1 << 20;
    static final int MAX_HANDSHAKE_BYTES = 16 << 10;
    static final int MAX_QUEUED_MESSAGES = 1024;
    static final int MAX_CONNECTIONS = 256;
    private static final Logger log = LoggerFactory.getLogger(ChainServer.class);
    private static final Duration START_TIMEOUT = Duration.ofSeconds(10);

    private final LocalChain chain;
    private final Server server;
    private final Thread announcer;
    private final RpcTable table = new RpcTable();
    private final SubstrateRpc substrate;
    private final AtomicInteger announcementsToSkip = new AtomicInteger();
    private volatile boolean closed;

    private ChainServer(LocalChain chain, InetSocketAddress address) {
        this.chain = chain;
        this.substrate = new SubstrateRpc(chain, table);
        new WindowRpcHandler(chain, table);
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
                        substrate.announce(n);
                    }
                }
                announced = head;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** A WebSocket connection as the table sees it. */
    private static final class Session extends RpcSession {
        private final WebSocket socket;

        Session(WebSocket socket) {
            this.socket = socket;
        }

        @Override
        public void send(String text) {
            if (socket instanceof WebSocketImpl impl && impl.outQueue.size() >= MAX_QUEUED_MESSAGES) {
                close("the client does not read what it is sent (" + MAX_QUEUED_MESSAGES + " messages queued)");
                return;
            }
            if (socket.isOpen()) {
                try {
                    socket.send(text);
                } catch (RuntimeException e) { // closed between the check and the send: its close handler cleans up
                    log.debug("send failed: {}", e.toString());
                }
            }
        }

        @Override
        public void close(String reason) {
            socket.close(CloseFrame.POLICY_VALIDATION, reason);
        }
    }

    private final class Server extends WebSocketServer {
        private final CountDownLatch started = new CountDownLatch(1);
        private final AtomicReference<Exception> startFailure = new AtomicReference<>();

        Server(InetSocketAddress address) {
            super(address, List.of(new Draft_6455(List.of(), MAX_MESSAGE_BYTES)));
            setWebSocketFactory(new BoundedHandshakes(MAX_HANDSHAKE_BYTES));
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
            if (getConnections().size() > MAX_CONNECTIONS) {
                socket.close(CloseFrame.TRY_AGAIN_LATER, "too many connections (at most " + MAX_CONNECTIONS + ")");
                return;
            }
            socket.setAttachment(new Session(socket));
            log.debug("client connected from {}", socket.getRemoteSocketAddress());
        }

        @Override
        public void onClose(WebSocket socket, int code, String reason, boolean remote) {
            Session session = socket.getAttachment();
            if (session != null) {
                table.closed(session);
            }
        }

        @Override
        public void onMessage(WebSocket socket, String text) {
            Session session = socket.getAttachment();
            if (session != null) {
                table.handle(session, text);
            }
        }

        @Override
        public void onMessage(WebSocket socket, ByteBuffer bytes) {
            socket.close(CloseFrame.REFUSE, "JSON-RPC requests are text messages");
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
