package neuron.engine.chain;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.java_websocket.WebSocket;
import org.java_websocket.handshake.ClientHandshake;
import org.java_websocket.server.WebSocketServer;

/** A WebSocket server on a free loopback port, for tests that play a node: subclasses answer the messages. */
public abstract class LoopbackServer extends WebSocketServer {
    private final CountDownLatch started = new CountDownLatch(1);

    protected LoopbackServer() {
        super(new InetSocketAddress("127.0.0.1", 0));
        setDaemon(true);
    }

    public int awaitPort() throws InterruptedException {
        assertTrue(started.await(Feeds.PATIENCE.toMillis(), TimeUnit.MILLISECONDS));
        return getPort();
    }

    @Override
    public void onStart() {
        started.countDown();
    }

    @Override
    public void onOpen(WebSocket socket, ClientHandshake handshake) {
    }

    @Override
    public void onClose(WebSocket socket, int code, String reason, boolean remote) {
    }

    @Override
    public void onError(WebSocket socket, Exception e) {
    }
}
