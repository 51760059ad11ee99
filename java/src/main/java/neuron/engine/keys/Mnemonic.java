package neuron.engine.keys;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.bouncycastle.crypto.digests.SHA512Digest;
import org.bouncycastle.crypto.generators.PKCS5S2ParametersGenerator;
import org.bouncycastle.crypto.params.KeyParameter;

/**
 * BIP-39 English mnemonics as Substrate reads them (substrate-bip39): the seed is PBKDF2-HMAC-SHA512 over the
 * mnemonic's <em>entropy</em> (not its words), salted with {@code "mnemonic" + password}, 2048 rounds; its first 32
 * bytes are the sr25519 mini secret or the ed25519 seed. Error messages never repeat the words.
 */
public final class Mnemonic {
    private static final List<String> WORDS = load();
    private static final Map<String, Integer> INDEX = index(WORDS);
    private static final SecureRandom RANDOM = new SecureRandom();

    private Mnemonic() {
    }

    /** A fresh mnemonic of {@code words} words (12, 15, 18, 21 or 24). */
    public static String generate(int words) {
        if (words % 3 != 0 || words < 12 || words > 24) {
            throw new IllegalArgumentException("a mnemonic has 12, 15, 18, 21 or 24 words, not " + words);
        }
        byte[] entropy = new byte[words / 3 * 4];
        RANDOM.nextBytes(entropy);
        try {
            return fromEntropy(entropy);
        } finally {
            Arrays.fill(entropy, (byte) 0);
        }
    }

    /** The mnemonic of 16, 20, 24, 28 or 32 bytes of entropy, its checksum appended. */
    public static String fromEntropy(byte[] entropy) {
        if (entropy.length % 4 != 0 || entropy.length < 16 || entropy.length > 32) {
            throw new IllegalArgumentException("mnemonic entropy is 16 to 32 bytes in steps of 4, not " + entropy.length);
        }
        byte[] hash = sha256(entropy);
        int words = entropy.length * 3 / 4;
        StringBuilder phrase = new StringBuilder();
        for (int w = 0; w < words; w++) {
            int index = 0;
            for (int bit = w * 11; bit < w * 11 + 11; bit++) {
                byte source = bit < entropy.length * 8 ? entropy[bit / 8] : hash[bit / 8 - entropy.length];
                index = (index << 1) | ((source >>> (7 - bit % 8)) & 1);
            }
            phrase.append(w == 0 ? "" : " ").append(WORDS.get(index));
        }
        return phrase.toString();
    }

    /** Whether {@code phrase} is a valid English mnemonic (known words, right count, right checksum). */
    public static boolean isValid(String phrase) {
        try {
            Arrays.fill(entropy(phrase), (byte) 0);
            return true;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    /** The mnemonic's entropy, its checksum checked. */
    public static byte[] entropy(String phrase) {
        String[] words = phrase.trim().split("\\s+");
        if (words.length % 3 != 0 || words.length < 12 || words.length > 24) {
            throw new IllegalArgumentException(
                    "a mnemonic has 12, 15, 18, 21 or 24 words, this one has " + words.length);
        }
        int bits = words.length * 11;
        byte[] all = new byte[(bits + 7) / 8];
        for (int w = 0; w < words.length; w++) {
            Integer index = INDEX.get(words[w]);
            if (index == null) {
                throw new IllegalArgumentException("word " + (w + 1) + " of the mnemonic is not a BIP-39 English word");
            }
            for (int i = 0; i < 11; i++) {
                if ((index >>> (10 - i) & 1) != 0) {
                    int bit = w * 11 + i;
                    all[bit / 8] |= (byte) (0x80 >>> (bit % 8));
                }
            }
        }
        int checksumBits = bits / 33;
        byte[] entropy = Arrays.copyOf(all, (bits - checksumBits) / 8);
        int checksum = (all[entropy.length] & 0xff) >>> (8 - checksumBits);
        int expected = (sha256(entropy)[0] & 0xff) >>> (8 - checksumBits);
        Arrays.fill(all, (byte) 0);
        if (checksum != expected) {
            Arrays.fill(entropy, (byte) 0);
            throw new IllegalArgumentException("the mnemonic's checksum does not match (a word is wrong or misplaced)");
        }
        return entropy;
    }

    /** The 32-byte mini secret (sr25519) or seed (ed25519) of a mnemonic and password. */
    public static byte[] miniSecret(String phrase, String password) {
        byte[] entropy = entropy(phrase);
        PKCS5S2ParametersGenerator pbkdf2 = new PKCS5S2ParametersGenerator(new SHA512Digest());
        pbkdf2.init(entropy, ("mnemonic" + password).getBytes(StandardCharsets.UTF_8), 2048);
        byte[] seed = ((KeyParameter) pbkdf2.generateDerivedParameters(512)).getKey();
        Arrays.fill(entropy, (byte) 0);
        byte[] mini = Arrays.copyOf(seed, 32);
        Arrays.fill(seed, (byte) 0);
        return mini;
    }

    private static byte[] sha256(byte[] data) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(data);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static List<String> load() {
        try (InputStream in = Mnemonic.class.getResourceAsStream("bip39-english.txt")) {
            if (in == null) {
                throw new IllegalStateException("the BIP-39 word list is missing from the engine's jar");
            }
            List<String> words = List.of(new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n"));
            if (words.size() != 2048) {
                throw new IllegalStateException("the BIP-39 word list has " + words.size() + " words, not 2048");
            }
            return words;
        } catch (IOException e) {
            throw new IllegalStateException("cannot read the BIP-39 word list: " + e.getMessage(), e);
        }
    }

    private static Map<String, Integer> index(List<String> words) {
        Map<String, Integer> index = new HashMap<>();
        for (int i = 0; i < words.size(); i++) {
            index.put(words.get(i), i);
        }
        return index;
    }
}
