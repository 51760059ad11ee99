package neuron.engine.keys;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.HexFormat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import neuron.engine.testing.NodeScripts;
import neuron.engine.testing.Slow;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Hotkey files in Bittensor's layout: written by polkadot.js's keyring and by the engine, read and refused. */
@Slow
class WalletTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HexFormat HEX = HexFormat.of();

    @TempDir
    Path wallets;

    /** Has polkadot.js write hotkey {@code hotkey} of wallet {@code name}; returns its public key and address. */
    private JsonNode polkadotWallet(String name, String hotkey, KeyType type) throws Exception {
        NodeScripts.assumeInstalled();
        ArrayNode requests = JSON.createArrayNode();
        requests.addObject().put("op", "wallet").put("type", type.toString())
                .put("path", wallets.resolve(name).resolve("hotkeys").resolve(hotkey).toString());
        return JSON.readTree(NodeScripts.run(Duration.ofMinutes(2), JSON.writeValueAsString(requests), "keys.mjs"))
                .get(0);
    }

    @Test
    void readsHotkeysPolkadotJsWroteInBittensorsLayout() throws Exception {
        for (KeyType type : KeyType.values()) {
            JsonNode made = polkadotWallet("miner", "hk-" + type, type);
            KeyPair key = new Wallet(wallets, "miner", "hk-" + type).loadHotkey();
            assertEquals(type, key.type());
            assertEquals(made.get("publicKey").asText(), "0x" + HEX.formatHex(key.publicKey()));
            assertEquals(made.get("address").asText(), Ss58.encode(key.publicKey()));
        }
    }

    @Test
    void readsTheSeedOrThePhraseAlone() throws Exception {
        JsonNode made = polkadotWallet("w", "h", KeyType.SR25519);
        Path file = new Wallet(wallets, "w", "h").hotkeyFile();
        ObjectNode full = (ObjectNode) JSON.readTree(file.toFile());
        for (String without : new String[] {"secretPhrase", "secretSeed"}) {
            ObjectNode partial = full.deepCopy();
            partial.remove(without);
            rewrite(file, JSON.writeValueAsBytes(partial));
            assertEquals(made.get("publicKey").asText(),
                    "0x" + HEX.formatHex(new Wallet(wallets, "w", "h").loadHotkey().publicKey()), "without " + without);
        }
    }

    @Test
    void writesWhatItReadsBackAndPolkadotJsAgrees() throws Exception {
        for (KeyType type : KeyType.values()) {
            Wallet wallet = new Wallet(wallets, "engine", type.toString());
            KeyPair made = wallet.createHotkey(type, false);
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(wallet.hotkeyFile())));
            assertEquals("rwx------", PosixFilePermissions.toString(
                    Files.getPosixFilePermissions(wallet.hotkeyFile().getParent())));
            KeyPair read = wallet.loadHotkey();
            assertEquals(made, read);
            assertEquals(type, read.type());
            JsonNode file = JSON.readTree(wallet.hotkeyFile().toFile());
            assertEquals(Ss58.encode(made.publicKey()), file.get("ss58Address").asText());
            assertEquals(file.get("publicKey"), file.get("accountId"));
            NodeScripts.assumeInstalled();
            ArrayNode requests = JSON.createArrayNode();
            requests.addObject().put("op", "pair").put("type", type.toString())
                    .put("uri", file.get("secretPhrase").asText());
            requests.addObject().put("op", "pair").put("type", type.toString())
                    .put("uri", file.get("secretSeed").asText());
            JsonNode answers = JSON.readTree(NodeScripts.run(Duration.ofMinutes(2), JSON.writeValueAsString(requests),
                    "keys.mjs"));
            for (JsonNode answer : answers) {
                assertEquals(file.get("publicKey").asText(), answer.get("publicKey").asText());
                assertEquals(file.get("ss58Address").asText(), answer.get("address").asText());
            }
        }
    }

    @Test
    void neverOverwritesUnlessAsked() throws Exception {
        Wallet wallet = new Wallet(wallets, "w", "h");
        KeyPair first = wallet.createHotkey(KeyType.SR25519, false);
        WalletException refused = assertThrows(WalletException.class, () -> wallet.createHotkey(KeyType.SR25519, false));
        assertTrue(refused.getMessage().contains("--overwrite"), refused.getMessage());
        assertEquals(first, wallet.loadHotkey());
        KeyPair second = wallet.createHotkey(KeyType.SR25519, true);
        assertFalse(first.equals(second));
        assertEquals(second, wallet.loadHotkey());
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(wallet.hotkeyFile())));
        try (var listing = Files.list(wallet.hotkeyFile().getParent())) {
            assertEquals(1, listing.count(), "no temporary file left behind");
        }
    }

    @Test
    void refusesAFileOthersCanReadOrWrite() throws Exception {
        Wallet wallet = new Wallet(wallets, "w", "h");
        wallet.createHotkey(KeyType.SR25519, false);
        for (String mode : new String[] {"rw-r-----", "rw----r--", "rw--w----", "rw-rw-rw-"}) {
            Files.setPosixFilePermissions(wallet.hotkeyFile(), PosixFilePermissions.fromString(mode));
            WalletException e = assertThrows(WalletException.class, wallet::loadHotkey);
            assertTrue(e.getMessage().contains("chmod 600 " + wallet.hotkeyFile()), e.getMessage());
        }
        Files.setPosixFilePermissions(wallet.hotkeyFile(), PosixFilePermissions.fromString("r--------"));
        wallet.loadHotkey();
    }

    @Test
    void refusesAPublicKeyTheSecretDoesNotGive() throws Exception {
        Wallet wallet = new Wallet(wallets, "w", "h");
        wallet.createHotkey(KeyType.SR25519, false);
        ObjectNode json = (ObjectNode) JSON.readTree(wallet.hotkeyFile().toFile());
        String bob = "0x" + HEX.formatHex(SecretUri.keyPair("//Bob", KeyType.SR25519).publicKey());
        json.put("publicKey", bob).put("accountId", bob);
        rewrite(wallet.hotkeyFile(), JSON.writeValueAsBytes(json));
        WalletException e = assertThrows(WalletException.class, wallet::loadHotkey);
        assertTrue(e.getMessage().contains("not its publicKey " + bob), e.getMessage());
    }

    @Test
    void refusesASeedAndPhraseThatDisagreeAndAWrongAddress() throws Exception {
        Wallet wallet = new Wallet(wallets, "w", "h");
        wallet.createHotkey(KeyType.SR25519, false);
        byte[] original = Files.readAllBytes(wallet.hotkeyFile());
        ObjectNode json = (ObjectNode) JSON.readTree(original);
        json.put("secretSeed", "0x" + "11".repeat(32));
        rewrite(wallet.hotkeyFile(), JSON.writeValueAsBytes(json));
        assertThrows(WalletException.class, wallet::loadHotkey);
        json = (ObjectNode) JSON.readTree(original);
        json.put("ss58Address", "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY");
        rewrite(wallet.hotkeyFile(), JSON.writeValueAsBytes(json));
        assertThrows(WalletException.class, wallet::loadHotkey);
    }

    @Test
    void saysWhichWalletOrHotkeyIsMissing() throws Exception {
        WalletException noWallet = assertThrows(WalletException.class, () -> new Wallet(wallets, "w", "h").loadHotkey());
        assertTrue(noWallet.getMessage().startsWith("no wallet 'w' in " + wallets), noWallet.getMessage());
        new Wallet(wallets, "w", "other").createHotkey(KeyType.SR25519, false);
        WalletException noHotkey = assertThrows(WalletException.class, () -> new Wallet(wallets, "w", "h").loadHotkey());
        assertTrue(noHotkey.getMessage().startsWith("wallet 'w' has no hotkey 'h'"), noHotkey.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new Wallet(wallets, "../w", "h"));
    }

    @Test
    void refusesMalformedAndEncryptedFiles() throws Exception {
        Wallet wallet = new Wallet(wallets, "w", "h");
        wallet.createHotkey(KeyType.SR25519, false);
        rewrite(wallet.hotkeyFile(), "$NACL0123456789".getBytes(StandardCharsets.UTF_8));
        assertTrue(assertThrows(WalletException.class, wallet::loadHotkey).getMessage().contains("encrypted"));
        rewrite(wallet.hotkeyFile(), "[1, 2]".getBytes(StandardCharsets.UTF_8));
        assertTrue(assertThrows(WalletException.class, wallet::loadHotkey).getMessage().contains("not a JSON object"));
        rewrite(wallet.hotkeyFile(), "{\"publicKey\": \"0x12\"}".getBytes(StandardCharsets.UTF_8));
        assertTrue(assertThrows(WalletException.class, wallet::loadHotkey).getMessage().contains("publicKey"));
    }

    @Test
    void theKeyItReadsSigns() throws Exception {
        Wallet wallet = new Wallet(wallets, "w", "h");
        wallet.createHotkey(KeyType.SR25519, false);
        KeyPair key = wallet.loadHotkey();
        byte[] message = "set_weights".getBytes(StandardCharsets.UTF_8);
        assertTrue(Sr25519KeyPair.verify(key.publicKey(), message, key.sign(message)));
        assertArrayEquals(key.publicKey(), Ss58.decode(JSON.readTree(wallet.hotkeyFile().toFile())
                .get("ss58Address").asText()));
    }

    /** Replaces a hotkey file's content, keeping it owner-only. */
    static void rewrite(Path file, byte[] content) throws IOException {
        Files.write(file, content);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
    }
}
