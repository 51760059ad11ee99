package neuron.engine.chain.local;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ByteChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;
import java.util.List;
import org.java_websocket.WebSocketAdapter;
import org.java_websocket.WebSocketImpl;
import org.java_websocket.WebSocketServerFactory;
import org.java_websocket.drafts.Draft;
import org.java_websocket.enums.ReadyState;

/**
 * Connections whose HTTP upgrade request may take at most {@code limit} bytes: Java-WebSocket buffers a handshake
 * until it is complete, so without a bound a client that never ends its headers would make the server hold
 * everything it sends. Past the limit the read fails and the server drops the connection.
 */
final class BoundedHandshakes implements WebSocketServerFactory {
    private final int limit;

    BoundedHandshakes(int limit) {
        this.limit = limit;
    }

    @Override
    public WebSocketImpl createWebSocket(WebSocketAdapter adapter, Draft draft) {
        return new WebSocketImpl(adapter, draft);
    }

    @Override
    public WebSocketImpl createWebSocket(WebSocketAdapter adapter, List<Draft> drafts) {
        return new WebSocketImpl(adapter, drafts);
    }

    @Override
    public ByteChannel wrapChannel(SocketChannel channel, SelectionKey key) {
        return new Channel(channel, (WebSocketImpl) key.attachment());
    }

    @Override
    public void close() {
    }

    private final class Channel implements ByteChannel {
        private final SocketChannel channel;
        private final WebSocketImpl socket;
        private long handshakeBytes;

        Channel(SocketChannel channel, WebSocketImpl socket) {
            this.channel = channel;
            this.socket = socket;
        }

        @Override
        public int read(ByteBuffer dst) throws IOException {
            int read = channel.read(dst);
            if (read > 0 && socket.getReadyState() == ReadyState.NOT_YET_CONNECTED) {
                handshakeBytes += read;
                if (handshakeBytes > limit) {
                    throw new IOException("a WebSocket handshake of more than " + limit + " bytes");
                }
            }
            return read;
        }

        @Override
        public int write(ByteBuffer src) throws IOException {
            return channel.write(src);
        }

        @Override
        public boolean isOpen() {
            return channel.isOpen();
        }

        @Override
        public void close() throws IOException {
            channel.close();
        }
    }
}
