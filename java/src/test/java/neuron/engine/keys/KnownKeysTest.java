package neuron.engine.keys;

import java.nio.charset.StandardCharsets;
import java.util.HexFormat;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Substrate's well-known development keys, which every Substrate tool prints the same, and the signatures' rules. */
class KnownKeysTest {
    private static final HexFormat HEX = HexFormat.of();
    private static final byte[] MESSAGE = "window 7 commitment".getBytes(StandardCharsets.UTF_8);

    @Test
    void aliceSr25519() {
        KeyPair alice = SecretUri.keyPair("//Alice", KeyType.SR25519);
        assertEquals("d43593c715fdd31c61141abd04a99fd6822c8558854ccde39a5684e7a56da27d", HEX.formatHex(alice.publicKey()));
        assertEquals("5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY", Ss58.encode(alice.publicKey()));
    }

    @Test
    void aliceEd25519() {
        KeyPair alice = SecretUri.keyPair("//Alice", KeyType.ED25519);
        assertEquals("88dc3417d5058ec4b4503e0c12ea1a0a89be200fe98922423d4334014fa6b0ee", HEX.formatHex(alice.publicKey()));
        assertEquals("5FA9nQDVg267DEd8m1ZypXLBnvN7SFxYwV7ndqSYGiN9TTpu", Ss58.encode(alice.publicKey()));
    }

    @Test
    void ss58RoundTripsAndRefusesAWrongChecksum() {
        byte[] id = HEX.parseHex("d43593c715fdd31c61141abd04a99fd6822c8558854ccde39a5684e7a56da27d");
        assertArrayEquals(id, Ss58.decode("5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY"));
        assertThrows(IllegalArgumentException.class, () -> Ss58.decode("5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQZ"));
        assertThrows(IllegalArgumentException.class, () -> Ss58.decode("5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKut0"));
        // Polkadot's prefix 0 spells Alice differently, and is not a prefix-42 address
        assertEquals("15oF4uVJwmo4TdGW7VfQxNLavjCXviqxT9S1MgbjMNHr6Sp5", Ss58.encode(id, 0));
        assertThrows(IllegalArgumentException.class, () -> Ss58.decode("15oF4uVJwmo4TdGW7VfQxNLavjCXviqxT9S1MgbjMNHr6Sp5"));
    }

    @Test
    void sr25519SignaturesVerifyAndCarryTheMarker() {
        KeyPair key = SecretUri.keyPair("//Bob", KeyType.SR25519);
        byte[] signature = key.sign(MESSAGE);
        assertEquals(64, signature.length);
        assertTrue((signature[63] & 0x80) != 0, "schnorrkel marks its signatures in the top bit");
        assertTrue(Sr25519KeyPair.verify(key.publicKey(), MESSAGE, signature));
        assertFalse(java.util.Arrays.equals(signature, key.sign(MESSAGE)), "each signature has a fresh nonce");
        byte[] other = MESSAGE.clone();
        other[0] ^= 1;
        assertFalse(Sr25519KeyPair.verify(key.publicKey(), other, signature));
        byte[] unmarked = signature.clone();
        unmarked[63] &= 0x7f;
        assertFalse(Sr25519KeyPair.verify(key.publicKey(), MESSAGE, unmarked));
        assertFalse(Sr25519KeyPair.verify(SecretUri.keyPair("//Alice", KeyType.SR25519).publicKey(), MESSAGE, signature));
        assertFalse(Sr25519KeyPair.verify(new byte[32], MESSAGE, signature));
    }

    @Test
    void hexSeedAndPhraseAgree() {
        byte[] mini = Mnemonic.miniSecret(SecretUri.DEV_PHRASE, "");
        assertEquals("fac7959dbfe72f052e5a0c3c8d6530f202b02fd8f9f5ca3580ec8deb7797479e", HEX.formatHex(mini));
        assertEquals(SecretUri.keyPair("//Alice", KeyType.SR25519),
                SecretUri.keyPair("0x" + HEX.formatHex(mini) + "//Alice", KeyType.SR25519));
    }

    @Test
    void badUrisAreRefusedWithoutRepeatingTheSecret() {
        String wrongWord = SecretUri.DEV_PHRASE.replace("walk", "wall");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> SecretUri.keyPair(wrongWord, KeyType.SR25519));
        assertFalse(e.getMessage().contains("bottom"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> SecretUri.keyPair("0x1234", KeyType.SR25519));
        assertFalse(e.getMessage().contains("1234"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> SecretUri.keyPair("//Alice/soft", KeyType.ED25519));
    }

    @Test
    void generatedMnemonicsAreValid() {
        for (int words : new int[] {12, 15, 18, 21, 24}) {
            String phrase = Mnemonic.generate(words);
            assertEquals(words, phrase.split(" ").length);
            assertTrue(Mnemonic.isValid(phrase), "a generated phrase of " + words + " words");
        }
    }
}
