package neuron.engine.model;

import java.nio.charset.StandardCharsets;

/**
 * A deterministic English-like text, generated rather than downloaded: sentences from a small grammar, drawn
 * with a fixed SplitMix64 stream. Regular enough for a tiny model to learn, varied enough not to be memorised
 * in a few steps. Changing it changes every default run, hence the version in {@link #SOURCE}.
 */
public final class BuiltinCorpus {
    public static final String SOURCE = "builtin:v1";
    private static final int BYTES = 512 * 1024;

    private static final String[] SUBJECTS = {"the miner", "a validator", "the old clock", "my neighbour",
            "the river", "a small bird", "the committee", "every student", "the ship", "her brother"};
    private static final String[] VERBS = {"watches", "builds", "remembers", "carries", "follows", "counts",
            "paints", "forgets", "finds", "measures"};
    private static final String[] ADJECTIVES = {"red", "quiet", "heavy", "bright", "distant", "careful",
            "broken", "golden", "narrow", "patient"};
    private static final String[] OBJECTS = {"stones", "letters", "lanterns", "blocks", "gradients", "boats",
            "apples", "windows", "stars", "maps"};
    private static final String[] ENDINGS = {" before dawn", " near the harbour", " every morning", " in silence",
            " without a word", "", "", ""};

    private BuiltinCorpus() {
    }

    static byte[] bytes() {
        StringBuilder text = new StringBuilder(BYTES + 256);
        long state = 0x5eed_c0de_2024L;
        while (text.length() < BYTES) {
            state = SplitMix64.next(state);
            long r = SplitMix64.mix(state);
            String subject = pick(SUBJECTS, r);
            text.append(Character.toUpperCase(subject.charAt(0))).append(subject, 1, subject.length())
                    .append(' ').append(pick(VERBS, r >>> 8))
                    .append(' ').append(2 + Long.remainderUnsigned(r >>> 16, 97))
                    .append(' ').append(pick(ADJECTIVES, r >>> 24))
                    .append(' ').append(pick(OBJECTS, r >>> 32))
                    .append(pick(ENDINGS, r >>> 40))
                    .append(((r >>> 48) & 7) == 0 ? ".\n" : ". ");
        }
        return text.substring(0, BYTES).getBytes(StandardCharsets.US_ASCII);
    }

    private static String pick(String[] words, long bits) {
        return words[(int) Long.remainderUnsigned(bits & 0xFF, words.length)];
    }
}
