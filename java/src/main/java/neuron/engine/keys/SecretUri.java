package neuron.engine.keys;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import neuron.engine.chain.scale.Hashing;
import neuron.engine.chain.scale.ScaleWriter;

/**
 * Substrate's secret URIs: {@code PHRASE_OR_0xSEED//hard/soft///password}, the phrase defaulting to the development
 * phrase (so {@code //Alice} is the well-known dev account). Errors never repeat the URI, which holds a secret.
 */
public final class SecretUri {
    /** The phrase behind Substrate's development accounts ({@code //Alice}, {@code //Bob}, …); public, never funded. */
    public static final String DEV_PHRASE = "bottom drive obey lake curtain smoke basket hold race lonely fit walk";

    private static final Pattern URI =
            Pattern.compile("^(?<phrase>[\\p{L}\\p{N}_ ]+)?(?<path>(//?[^/]+)*)(///(?<password>.*))?$");
    private static final Pattern JUNCTION = Pattern.compile("/(/?[^/]+)");

    private SecretUri() {
    }

    /** The key of {@code type} that {@code uri} names. */
    public static KeyPair keyPair(String uri, KeyType type) {
        Matcher m = URI.matcher(uri);
        if (!m.matches()) {
            throw new IllegalArgumentException("not a secret URI (PHRASE or 0xSEED, then //hard or /soft junctions)");
        }
        String phrase = m.group("phrase") == null ? DEV_PHRASE : m.group("phrase");
        String password = m.group("password") == null ? "" : m.group("password");
        List<DeriveJunction> path = new ArrayList<>();
        Matcher j = JUNCTION.matcher(m.group("path"));
        while (j.find()) {
            path.add(DeriveJunction.parse(j.group(1)));
        }
        byte[] seed = phrase.startsWith("0x") ? hexSeed(phrase.substring(2)) : Mnemonic.miniSecret(phrase, password);
        try {
            return derive(seed, path, type);
        } finally {
            Arrays.fill(seed, (byte) 0);
        }
    }

    /** The key of {@code type} from a 32-byte seed (the sr25519 mini secret or the ed25519 seed). */
    public static KeyPair fromSeed(byte[] seed, KeyType type) {
        return switch (type) {
            case SR25519 -> Sr25519KeyPair.fromMiniSecret(seed);
            case ED25519 -> Ed25519KeyPair.fromSeed(seed);
        };
    }

    private static KeyPair derive(byte[] seed, List<DeriveJunction> path, KeyType type) {
        if (type == KeyType.SR25519) {
            Sr25519KeyPair pair = Sr25519KeyPair.fromMiniSecret(seed);
            for (DeriveJunction junction : path) {
                pair = junction.hard() ? pair.deriveHard(junction.chainCode()) : pair.deriveSoft(junction.chainCode());
            }
            return pair;
        }
        byte[] current = seed.clone();
        for (DeriveJunction junction : path) {
            if (!junction.hard()) {
                throw new IllegalArgumentException("ed25519 keys have no soft derivation (/x); use a hard one (//x)");
            }
            byte[] next = Hashing.blake2b256(new ScaleWriter().str("Ed25519HDKD").raw(current)
                    .raw(junction.chainCode()).toByteArray());
            Arrays.fill(current, (byte) 0);
            current = next;
        }
        try {
            return Ed25519KeyPair.fromSeed(current);
        } finally {
            Arrays.fill(current, (byte) 0);
        }
    }

    private static byte[] hexSeed(String hex) {
        byte[] seed;
        try {
            seed = HexFormat.of().parseHex(hex);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("the seed after 0x is not hexadecimal");
        }
        if (seed.length != 32) {
            throw new IllegalArgumentException("a seed is 32 bytes (64 hex digits), this one has " + seed.length);
        }
        return seed;
    }
}
