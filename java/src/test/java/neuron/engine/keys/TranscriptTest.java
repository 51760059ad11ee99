package neuron.engine.keys;

import java.util.HexFormat;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/** Merlin's published transcript vectors, which pin STROBE-128 and Keccak-f[1600] too. */
class TranscriptTest {
    private static String hex(byte[] bytes) {
        return HexFormat.of().formatHex(bytes);
    }

    @Test
    void simpleTranscriptMatchesMerlin() {
        Transcript t = new Transcript("test protocol");
        t.appendMessage("some label", Transcript.ascii("some data"));
        assertEquals("d5a21972d0d5fe320c0d263fac7fffb8145aa640af6e9bca177c03c7efcf0615",
                hex(t.challengeBytes("challenge", 32)));
    }

    @Test
    void complexTranscriptMatchesMerlin() {
        // crosses STROBE's 166-byte rate many times, in absorbing and in squeezing
        Transcript t = new Transcript("test protocol");
        t.appendMessage("step1", Transcript.ascii("some data"));
        byte[] data = new byte[1024];
        java.util.Arrays.fill(data, (byte) 0x63);
        byte[] challenge = null;
        for (int i = 0; i < 32; i++) {
            challenge = t.challengeBytes("challenge", 32);
            t.appendMessage("bigdata", data);
            t.appendMessage("challengedata", challenge);
        }
        assertEquals("a8c933f54fae76e3f9bea93648c1308e7dfa2152dd51674ff3ca438351cf003c", hex(challenge));
    }

    @Test
    void aCopyEvolvesIndependently() {
        Transcript t = new Transcript("p");
        Transcript u = t.copy();
        t.appendMessage("l", Transcript.ascii("x"));
        u.appendMessage("l", Transcript.ascii("x"));
        assertArrayEquals(t.copy().challengeBytes("c", 64), u.copy().challengeBytes("c", 64));
        t.appendMessage("l", Transcript.ascii("y"));
        assertFalse(java.util.Arrays.equals(t.challengeBytes("c", 8), u.challengeBytes("c", 8)));
    }

    @Test
    void witnessBytesAreFreshEachTimeAndLeaveTheTranscriptAlone() {
        Transcript t = new Transcript("p");
        byte[] before = t.copy().challengeBytes("c", 32);
        byte[] first = t.witnessBytes("w", 32, new byte[32]);
        byte[] second = t.witnessBytes("w", 32, new byte[32]);
        assertFalse(java.util.Arrays.equals(first, second), "the witness mixes in fresh randomness");
        assertArrayEquals(before, t.challengeBytes("c", 32));
    }
}
