package neuron.engine.chain;

import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * A WebSocket client written out by hand, for sending what no well-behaved library sends: a frame that announces
 * more than it will deliver, a handshake that never ends, a reader that never reads. Frames are masked with a zero
 * key, so payload bytes go out as they are.
 */
public final class RawWebSocket implements Closeable {
    private static final int TEXT = 1;
    private static final int CLOSE = 8;

    private final Socket socket;
    private final DataInputStream in;
    private final OutputStream out;

    /** Connects; {@code receiveBuffer} > 0 shrinks the socket's receive buffer (a slow reader fills up sooner). */
    public RawWebSocket(int port, int receiveBuffer) throws IOException {
        socket = new Socket();
        if (receiveBuffer > 0) {
            socket.setReceiveBufferSize(receiveBuffer);
        }
        socket.connect(new InetSocketAddress("127.0.0.1", port), 10_000);
        socket.setSoTimeout((int) Feeds.PATIENCE.toMillis());
        in = new DataInputStream(socket.getInputStream());
        out = socket.getOutputStream();
    }

    /** The upgrade request and the server's 101 answer. */
    public RawWebSocket handshake() throws IOException {
        out.write(("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII));
        StringBuilder response = new StringBuilder();
        while (!response.toString().endsWith("\r\n\r\n")) {
            response.append((char) in.readUnsignedByte());
        }
        if (!response.toString().startsWith("HTTP/1.1 101")) {
            throw new IOException("no upgrade: " + response);
        }
        return this;
    }

    /** A frame header announcing {@code length} payload bytes; the payload is up to the caller. */
    public void frameHeader(int opcode, long length) throws IOException {
        ByteBuffer header = ByteBuffer.allocate(14);
        header.put((byte) (0x80 | opcode)).put((byte) (0x80 | 127)).putLong(length).putInt(0); // mask key 0
        out.write(header.array());
    }

    public void payload(byte[] bytes) throws IOException {
        out.write(bytes);
    }

    public void text(String text) throws IOException {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        frameHeader(TEXT, bytes.length);
        out.write(bytes);
        out.flush();
    }

    /** Reads frames until the server's close frame: its code and reason; "EOF" when the connection just ends. */
    public String awaitClose() throws IOException {
        try {
            while (true) {
                int first = in.readUnsignedByte();
                int second = in.readUnsignedByte();
                long length = second & 0x7F;
                if (length == 126) {
                    length = in.readUnsignedShort();
                } else if (length == 127) {
                    length = in.readLong();
                }
                byte[] payload = new byte[Math.toIntExact(length)];
                in.readFully(payload);
                if ((first & 0x0F) == CLOSE) {
                    int code = payload.length >= 2 ? ((payload[0] & 0xFF) << 8) | (payload[1] & 0xFF) : -1;
                    return code + " " + new String(payload, 2, Math.max(0, payload.length - 2), StandardCharsets.UTF_8);
                }
            }
        } catch (EOFException | java.net.SocketException e) {
            return "EOF";
        }
    }

    /** Writes {@code bytes} until the server stops taking them; returns how many it took. */
    public long writeUntilRefused(byte[] chunk, long atMost) {
        long written = 0;
        try {
            while (written < atMost) {
                out.write(chunk);
                written += chunk.length;
            }
        } catch (IOException refused) {
            // the server closed the connection
        }
        return written;
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }

    public static byte[] bytes(int size) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(size);
        for (int i = 0; i < size; i++) {
            out.write('a');
        }
        return out.toByteArray();
    }
}
