package neuron.engine.keys;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

import neuron.engine.chain.scale.Hashing;

/**
 * SS58 addresses of 32-byte account ids: base58 of {@code prefix ‖ id ‖ checksum}, the checksum being the first two
 * bytes of BLAKE2b-512({@code "SS58PRE" ‖ prefix ‖ id}). Bittensor uses the generic Substrate prefix 42.
 */
public final class Ss58 {
    public static final int SUBSTRATE_PREFIX = 42;
    private static final String ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
    private static final byte[] CONTEXT = "SS58PRE".getBytes(StandardCharsets.US_ASCII);

    private Ss58() {
    }

    public static String encode(byte[] accountId) {
        return encode(accountId, SUBSTRATE_PREFIX);
    }

    public static String encode(byte[] accountId, int prefix) {
        if (accountId.length != 32) {
            throw new IllegalArgumentException("an account id is 32 bytes, not " + accountId.length);
        }
        byte[] prefixBytes = prefixBytes(prefix);
        byte[] body = Hashing.concat(prefixBytes, accountId);
        return base58(Hashing.concat(body, Arrays.copyOf(checksum(body), 2)));
    }

    /** The account id of an address with prefix 42; a wrong checksum, length or prefix is refused. */
    public static byte[] decode(String address) {
        return decode(address, SUBSTRATE_PREFIX);
    }

    public static byte[] decode(String address, int prefix) {
        byte[] raw = unbase58(address);
        byte[] prefixBytes = prefixBytes(prefix);
        if (raw.length != prefixBytes.length + 32 + 2) {
            throw new IllegalArgumentException("not an SS58 address of a 32-byte account: " + address);
        }
        if (!Arrays.equals(raw, 0, prefixBytes.length, prefixBytes, 0, prefixBytes.length)) {
            throw new IllegalArgumentException("SS58 address " + address + " is not of network prefix " + prefix);
        }
        byte[] body = Arrays.copyOf(raw, raw.length - 2);
        byte[] sum = checksum(body);
        if (sum[0] != raw[raw.length - 2] || sum[1] != raw[raw.length - 1]) {
            throw new IllegalArgumentException("SS58 address " + address + " has a wrong checksum");
        }
        return Arrays.copyOfRange(body, prefixBytes.length, body.length);
    }

    private static byte[] prefixBytes(int prefix) {
        if (prefix < 0 || prefix > 16383) {
            throw new IllegalArgumentException("an SS58 prefix is 0 to 16383, not " + prefix);
        }
        if (prefix < 64) {
            return new byte[] {(byte) prefix};
        }
        return new byte[] {
            (byte) (((prefix & 0b1111_1100) >> 2) | 0b0100_0000),
            (byte) ((prefix >> 8) | ((prefix & 0b11) << 6)),
        };
    }

    private static byte[] checksum(byte[] body) {
        return Hashing.blake2b512(Hashing.concat(CONTEXT, body));
    }

    private static String base58(byte[] data) {
        StringBuilder out = new StringBuilder();
        BigInteger n = new BigInteger(1, data);
        BigInteger base = BigInteger.valueOf(58);
        while (n.signum() > 0) {
            BigInteger[] qr = n.divideAndRemainder(base);
            out.append(ALPHABET.charAt(qr[1].intValue()));
            n = qr[0];
        }
        for (int i = 0; i < data.length && data[i] == 0; i++) {
            out.append('1');
        }
        return out.reverse().toString();
    }

    private static byte[] unbase58(String text) {
        BigInteger n = BigInteger.ZERO;
        int zeros = 0;
        while (zeros < text.length() && text.charAt(zeros) == '1') {
            zeros++;
        }
        for (int i = 0; i < text.length(); i++) {
            int digit = ALPHABET.indexOf(text.charAt(i));
            if (digit < 0) {
                throw new IllegalArgumentException("not an SS58 address (not base58): " + text);
            }
            n = n.multiply(BigInteger.valueOf(58)).add(BigInteger.valueOf(digit));
        }
        byte[] magnitude = n.signum() == 0 ? new byte[0] : n.toByteArray();
        int skip = magnitude.length > 0 && magnitude[0] == 0 ? 1 : 0;
        byte[] out = new byte[zeros + magnitude.length - skip];
        System.arraycopy(magnitude, skip, out, zeros, magnitude.length - skip);
        return out;
    }
}
