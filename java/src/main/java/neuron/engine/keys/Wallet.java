package neuron.engine.keys;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * A Bittensor wallet's hotkey, laid out as Bittensor's tools lay it out: {@code PATH/NAME/hotkeys/HOTKEY}, an
 * unencrypted JSON file with {@code secretPhrase}, {@code secretSeed}, {@code privateKey}, {@code publicKey},
 * {@code accountId} and {@code ss58Address}. The key is made from {@code secretSeed} (or {@code secretPhrase}) and
 * must give the file's {@code publicKey}; its kind (sr25519, Bittensor's, or ed25519) is the one that does.
 */
public final class Wallet {
    public static final String DEFAULT_NAME = "default";
    public static final String DEFAULT_HOTKEY = "default";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HexFormat HEX = HexFormat.of();
    private static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rw-------");
    private static final FileAttribute<Set<PosixFilePermission>> PRIVATE_DIR =
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------"));
    private static final FileAttribute<Set<PosixFilePermission>> PRIVATE_FILE =
            PosixFilePermissions.asFileAttribute(OWNER_ONLY);

    private final Path path;
    private final String name;
    private final String hotkey;

    public Wallet(Path path, String name, String hotkey) {
        this.path = path;
        this.name = checkedName("wallet name", name);
        this.hotkey = checkedName("hotkey name", hotkey);
    }

    /** {@code ~/.bittensor/wallets}, where Bittensor keeps wallets. */
    public static Path defaultPath() {
        return Path.of(System.getProperty("user.home"), ".bittensor", "wallets");
    }

    public Path hotkeyFile() {
        return path.resolve(name).resolve("hotkeys").resolve(hotkey);
    }

    public String name() {
        return name;
    }

    public String hotkey() {
        return hotkey;
    }

    /** The hotkey, its file checked: readable by its owner only, well formed, its key matching its public key. */
    public KeyPair loadHotkey() {
        Path file = hotkeyFile();
        if (!Files.isDirectory(path.resolve(name))) {
            throw new WalletException("no wallet '" + name + "' in " + path + " (bin/neuron keys new --wallet.name "
                    + name + " makes one)");
        }
        byte[] content;
        try {
            checkPermissions(file);
            content = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new WalletException("wallet '" + name + "' has no hotkey '" + hotkey + "': no file " + file
                    + " (bin/neuron keys new --wallet.name " + name + " --wallet.hotkey " + hotkey + " makes one)");
        } catch (IOException e) {
            throw new WalletException("cannot read hotkey file " + file + ": " + e.getClass().getSimpleName());
        }
        try {
            return keyOf(file, content);
        } finally {
            Arrays.fill(content, (byte) 0);
        }
    }

    /**
     * Makes a hotkey of {@code type} from a fresh 12-word mnemonic and writes it (mode 0600, its directories 0700).
     * An existing hotkey is replaced only with {@code overwrite}.
     */
    public KeyPair createHotkey(KeyType type, boolean overwrite) throws IOException {
        Path file = hotkeyFile();
        if (!overwrite && Files.exists(file)) {
            throw new WalletException("hotkey file " + file + " exists; it is kept (pass --overwrite true to replace "
                    + "it, which loses its key unless you hold its secret phrase)");
        }
        String phrase = Mnemonic.generate(12);
        byte[] seed = Mnemonic.miniSecret(phrase, "");
        KeyPair key = SecretUri.fromSeed(seed, type);
        byte[] secretKey = type == KeyType.SR25519 ? ((Sr25519KeyPair) key).secretKeyBytes()
                : ((Ed25519KeyPair) key).secretKeyBytes();
        Map<String, String> fields = new LinkedHashMap<>();
        fields.put("accountId", hex(key.publicKey()));
        fields.put("publicKey", hex(key.publicKey()));
        fields.put("privateKey", hex(secretKey));
        fields.put("secretPhrase", phrase);
        fields.put("secretSeed", hex(seed));
        fields.put("ss58Address", Ss58.encode(key.publicKey()));
        byte[] content = JSON.writeValueAsBytes(fields);
        Arrays.fill(seed, (byte) 0);
        Arrays.fill(secretKey, (byte) 0);
        try {
            Files.createDirectories(file.getParent(), PRIVATE_DIR);
            if (overwrite) {
                Path temporary = Files.createTempFile(file.getParent(), "." + hotkey + "-", ".tmp", PRIVATE_FILE);
                try {
                    Files.write(temporary, content);
                    Files.move(temporary, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
                } finally {
                    Files.deleteIfExists(temporary);
                }
            } else {
                try (OutputStream out = Files.newOutputStream(
                        Files.createFile(file, PRIVATE_FILE), StandardOpenOption.WRITE)) {
                    out.write(content);
                }
            }
        } catch (FileAlreadyExistsException e) {
            throw new WalletException("hotkey file " + file + " appeared while writing it; it is kept");
        } finally {
            Arrays.fill(content, (byte) 0);
        }
        return key;
    }

    /** Refuses a key file that its group or others may read or write, as ssh refuses a private key. */
    private static void checkPermissions(Path file) throws IOException {
        Set<PosixFilePermission> permissions = Files.getPosixFilePermissions(file);
        Set<PosixFilePermission> extra = new java.util.HashSet<>(permissions);
        extra.removeAll(Set.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE,
                PosixFilePermission.OWNER_EXECUTE));
        if (!extra.isEmpty()) {
            throw new WalletException("hotkey file " + file + " is accessible by others ("
                    + PosixFilePermissions.toString(permissions) + "); the engine refuses it: run chmod 600 " + file);
        }
    }

    private static KeyPair keyOf(Path file, byte[] content) {
        String text = new String(content, java.nio.charset.StandardCharsets.UTF_8).strip();
        if (text.startsWith("$")) {
            throw new WalletException("hotkey file " + file + " is encrypted; the engine reads unencrypted hotkeys "
                    + "(as Bittensor writes them by default)");
        }
        JsonNode json;
        try {
            json = JSON.readTree(content);
        } catch (JsonProcessingException e) {
            // the parser's own message quotes the file, which holds the secret: only the position is kept
            JsonLocation at = e.getLocation();
            throw new WalletException("hotkey file " + file + " is not valid JSON"
                    + (at == null ? "" : " (line " + at.getLineNr() + ", column " + at.getColumnNr() + ")"));
        } catch (IOException e) {
            throw new WalletException("hotkey file " + file + " cannot be parsed: " + e.getClass().getSimpleName());
        }
        if (json == null || !json.isObject()) {
            throw new WalletException("hotkey file " + file + " is not a JSON object");
        }
        byte[] publicKey = hexField(file, json, "publicKey", 32);
        if (publicKey == null) {
            throw new WalletException("hotkey file " + file + " has no publicKey");
        }
        byte[] seed = seedOf(file, json);
        KeyPair key;
        try {
            key = SecretUri.fromSeed(seed, KeyType.SR25519);
            if (!Arrays.equals(key.publicKey(), publicKey)) {
                KeyPair ed25519 = SecretUri.fromSeed(seed, KeyType.ED25519);
                if (!Arrays.equals(ed25519.publicKey(), publicKey)) {
                    throw new WalletException("hotkey file " + file + ": its secret gives public key "
                            + hex(key.publicKey()) + " (sr25519) or " + hex(ed25519.publicKey())
                            + " (ed25519), not its publicKey " + hex(publicKey) + "; refused");
                }
                key = ed25519;
            }
        } finally {
            Arrays.fill(seed, (byte) 0);
        }
        byte[] accountId = hexField(file, json, "accountId", 32);
        if (accountId != null && !Arrays.equals(accountId, publicKey)) {
            throw new WalletException("hotkey file " + file + ": its accountId is not its publicKey; refused");
        }
        JsonNode address = json.get("ss58Address");
        if (address != null && !address.isNull() && !Ss58.encode(publicKey).equals(address.asText())) {
            throw new WalletException("hotkey file " + file + ": its ss58Address " + address.asText()
                    + " is not its publicKey's (" + Ss58.encode(publicKey) + "); refused");
        }
        return key;
    }

    /** The 32-byte seed: {@code secretSeed}, else from {@code secretPhrase}; both must agree when both are there. */
    private static byte[] seedOf(Path file, JsonNode json) {
        byte[] seed = hexField(file, json, "secretSeed", 32);
        JsonNode phrase = json.get("secretPhrase");
        if (phrase == null || phrase.isNull()) {
            if (seed == null) {
                throw new WalletException("hotkey file " + file + " has neither secretSeed nor secretPhrase");
            }
            return seed;
        }
        byte[] fromPhrase;
        try {
            fromPhrase = Mnemonic.miniSecret(phrase.asText(), "");
        } catch (IllegalArgumentException e) {
            throw new WalletException("hotkey file " + file + ": its secretPhrase is not a valid mnemonic ("
                    + e.getMessage() + ")");
        }
        if (seed != null && !Arrays.equals(seed, fromPhrase)) {
            throw new WalletException("hotkey file " + file + ": its secretSeed is not its secretPhrase's; refused");
        }
        return fromPhrase;
    }

    private static byte[] hexField(Path file, JsonNode json, String field, int length) {
        JsonNode node = json.get(field);
        if (node == null || node.isNull()) {
            return null;
        }
        String text = node.asText();
        byte[] bytes = null;
        if (text.startsWith("0x") && text.length() == 2 + 2 * length) {
            try {
                bytes = HEX.parseHex(text, 2, text.length());
            } catch (IllegalArgumentException notHex) {
                bytes = null;
            }
        }
        if (bytes == null) {
            throw new WalletException("hotkey file " + file + ": its " + field + " is not 0x and " + length
                    + " bytes of hex");
        }
        return bytes;
    }

    private static String hex(byte[] bytes) {
        return "0x" + HEX.formatHex(bytes);
    }

    private static String checkedName(String what, String value) {
        if (value.isEmpty() || value.equals(".") || value.equals("..") || value.contains("/") || value.contains("\0")) {
            throw new IllegalArgumentException("a " + what + " is one path component, not '" + value + "'");
        }
        return value;
    }

    @Override
    public String toString() {
        return "wallet " + name + ", hotkey " + hotkey + " (" + hotkeyFile() + ")";
    }
}
