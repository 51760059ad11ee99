package neuron.engine.cli;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import neuron.engine.keys.KeyPair;
import neuron.engine.keys.Wallet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code neuron keys} end to end, and the rule that a hotkey's secret (phrase, seed, private key) appears in no
 * output: not on either stream or in a log line of {@code keys new}/{@code keys show}, not in {@code --help}, not in
 * a key's or a wallet's {@code toString}, and not in the one line or the exception of a refused hotkey file, even
 * when the file's malformed content is the secret itself.
 */
class KeysSecretsTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path wallets;

    /** A command line run in this JVM, the process's own streams (where log lines go) captured too. */
    private static String run(int expectedStatus, String... args) {
        PrintStream out = System.out;
        PrintStream err = System.err;
        ByteArrayOutputStream stdio = new ByteArrayOutputStream();
        PrintStream capture = new PrintStream(stdio, true, StandardCharsets.UTF_8);
        CliRun run;
        try {
            System.setOut(capture);
            System.setErr(capture);
            run = CliRun.of(args);
        } finally {
            System.setOut(out);
            System.setErr(err);
        }
        assertEquals(expectedStatus, run.status(), String.join(" ", args) + ": " + run.err());
        return run.out() + run.err() + stdio.toString(StandardCharsets.UTF_8);
    }

    /** The secrets of a hotkey file, each in the spellings it could leak in. */
    private static List<String> secretsOf(Path file) throws Exception {
        JsonNode json = JSON.readTree(file.toFile());
        List<String> secrets = new ArrayList<>();
        String phrase = json.get("secretPhrase").asText();
        secrets.add(phrase);
        String[] words = phrase.split(" ");
        for (int i = 0; i + 3 <= words.length; i++) {
            secrets.add(String.join(" ", words[i], words[i + 1], words[i + 2]));
        }
        for (String field : new String[] {"secretSeed", "privateKey"}) {
            String hex = json.get(field).asText().substring(2);
            secrets.add(hex);
            secrets.add(hex.toUpperCase(Locale.ROOT));
            secrets.add(hex.substring(0, 16));
        }
        return secrets;
    }

    private static void assertNoSecret(List<String> secrets, String text, String where) {
        for (String secret : secrets) {
            assertFalse(text.contains(secret), where + " shows a secret");
        }
    }

    private Path newHotkey(String hotkey, String type) throws Exception {
        String printed = run(0, "keys", "new", "--wallet.path", wallets.toString(), "--wallet.hotkey", hotkey,
                "--key_type", type);
        Path file = new Wallet(wallets, Wallet.DEFAULT_NAME, hotkey).hotkeyFile();
        assertNoSecret(secretsOf(file), printed, "keys new");
        return file;
    }

    @Test
    void keysNewAndShowPrintPublicPartsOnly() throws Exception {
        for (String type : new String[] {"sr25519", "ed25519"}) {
            Path file = newHotkey("hk-" + type, type);
            JsonNode json = JSON.readTree(file.toFile());
            String shown = run(0, "keys", "show", "--wallet.path", wallets.toString(), "--wallet.hotkey", "hk-" + type);
            assertTrue(shown.contains(json.get("ss58Address").asText()), shown);
            assertTrue(shown.contains(json.get("publicKey").asText()), shown);
            assertTrue(shown.contains("type          " + type), shown);
            assertNoSecret(secretsOf(file), shown, "keys show");
            KeyPair key = new Wallet(wallets, Wallet.DEFAULT_NAME, "hk-" + type).loadHotkey();
            assertNoSecret(secretsOf(file), key.toString(), "a key's toString");
            assertNoSecret(secretsOf(file), new Wallet(wallets, Wallet.DEFAULT_NAME, "hk-" + type).toString(),
                    "a wallet's toString");
        }
    }

    @Test
    void keysNewRefusesToOverwriteAndABadKeyType() throws Exception {
        Path file = newHotkey("h", "sr25519");
        byte[] before = Files.readAllBytes(file);
        String refused = run(2, "keys", "new", "--wallet.path", wallets.toString(), "--wallet.hotkey", "h");
        assertTrue(refused.contains("exists; it is kept"), refused);
        assertEquals(new String(before, StandardCharsets.UTF_8), Files.readString(file));
        assertNoSecret(secretsOf(file), refused, "a refused keys new");
        String overwritten = run(0, "keys", "new", "--wallet.path", wallets.toString(), "--wallet.hotkey", "h",
                "--overwrite", "true");
        assertNoSecret(secretsOf(file), overwritten, "keys new --overwrite true");
        assertFalse(new String(before, StandardCharsets.UTF_8).equals(Files.readString(file)));
        assertTrue(run(2, "keys", "new", "--wallet.path", wallets.toString(), "--key_type", "ecdsa")
                .contains("sr25519 or ed25519"));
    }

    @Test
    void helpShowsEveryDefaultAndNoSecret() throws Exception {
        Path file = newHotkey("h", "sr25519");
        for (String[] command : new String[][] {{"keys", "--help"}, {"keys", "new", "--help"},
                {"keys", "show", "--help"}, {"miner", "--help"}, {"validator", "--help"}}) {
            String help = run(0, command);
            assertNoSecret(secretsOf(file), help, String.join(" ", command));
            if (!command[0].equals("keys") || command.length == 3) {
                assertTrue(help.contains("--wallet.path=DIR") && help.contains("(default: ~/.bittensor/wallets)"), help);
                assertTrue(help.contains("--wallet.hotkey=HOTKEY"), help);
            }
            if (!command[0].equals("keys")) {
                assertTrue(help.contains("--subtensor.chain_endpoint") && help.contains("--netuid=N"), help);
            }
        }
    }

    @Test
    void refusedHotkeyFilesNeverShowTheSecret() throws Exception {
        Path file = newHotkey("h", "sr25519");
        List<String> secrets = secretsOf(file);
        ObjectNode json = (ObjectNode) JSON.readTree(file.toFile());
        String phrase = json.get("secretPhrase").asText();
        String seed = json.get("secretSeed").asText();
        String mismatch = JSON.writeValueAsString(json.deepCopy().put("publicKey", "0x" + "22".repeat(32)));
        String[] contents = {
            mismatch,
            // malformed JSON whose first bad token is the secret phrase, then the seed: the parser would quote them
            "{\"secretPhrase\": " + phrase + ", \"secretSeed\": " + seed + "}",
            seed + " " + phrase,
            // an unquoted token the parser reads whole and would name in its message: the seed's hex
            "{\"secretSeed\": seed" + seed.substring(2) + "}",
            "{\"secretSeed\": \"" + seed + "\", \"publicKey\": \"" + seed + "\", \"secretPhrase\": \""
                    + phrase.replaceFirst("^\\S+", "zzzz") + "\"}",
            "{\"secretSeed\": \"" + seed + "0\", \"publicKey\": \"" + json.get("publicKey").asText() + "\"}",
        };
        for (String content : contents) {
            Files.writeString(file, content);
            String printed = run(2, "keys", "show", "--wallet.path", wallets.toString(), "--wallet.hotkey", "h");
            assertTrue(printed.startsWith("neuron keys show: hotkey file " + file), printed);
            assertEquals(1, printed.strip().lines().count(), printed);
            assertNoSecret(secrets, printed, "a refused hotkey file");
            RuntimeException e = assertThrows(RuntimeException.class,
                    () -> new Wallet(wallets, Wallet.DEFAULT_NAME, "h").loadHotkey());
            StringWriter trace = new StringWriter();
            e.printStackTrace(new PrintWriter(trace));
            assertNoSecret(secrets, trace.toString(), "the exception of a refused hotkey file");
        }
        Files.writeString(file, JSON.writeValueAsString(json));
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));
        String printed = run(2, "keys", "show", "--wallet.path", wallets.toString(), "--wallet.hotkey", "h");
        assertTrue(printed.contains("chmod 600 " + file), printed);
        assertNoSecret(secrets, printed, "a hotkey file others can read");
    }
}
