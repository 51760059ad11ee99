package neuron.engine.network;

import neuron.engine.checkpoint.UsageException;

import java.util.Locale;
import java.util.Objects;

/**
 * What a miner or a validator commits to the chain for a window, as Bittensor's commitments do: the SHA-256 of a
 * file it put in the submission store first (the bytes stay off the chain). A miner commits its {@link Kind#UPDATE}
 * of a window; a validator the {@link Kind#AGGREGATE} it applies to the network's base model. A commitment counts
 * for its window only if a block of that window includes it.
 */
public record Commitment(Kind kind, int uid, long window, Hash32 hash) {
    /** The largest uid a subnet has (uids are u16 on the chain). */
    public static final int MAX_UID = 65_535;

    public enum Kind {
        UPDATE, AGGREGATE;

        /** The wire name: "update" or "aggregate". */
        public String wireName() {
            return name().toLowerCase(Locale.ROOT);
        }

        /** The kind a wire name names; IllegalArgumentException for any other text. */
        public static Kind ofWireName(String name) {
            for (Kind kind : values()) {
                if (kind.wireName().equals(name)) {
                    return kind;
                }
            }
            throw new IllegalArgumentException("kind must be 'update' or 'aggregate', got '" + name + "'");
        }
    }

    /** The one check of a uid ({@code what} names it in the message): 0..{@value #MAX_UID}; returns it. */
    public static int checkUid(String what, int uid) {
        if (uid < 0 || uid > MAX_UID) {
            throw new UsageException(what + " must be 0.." + MAX_UID + ", got " + uid);
        }
        return uid;
    }

    public Commitment {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(hash, "hash");
        checkUid("uid", uid);
        if (window < 0) {
            throw new IllegalArgumentException("window must be >= 0, got " + window);
        }
    }

    @Override
    public String toString() {
        return kind.wireName() + " of uid " + uid + " for window " + window + " (" + hash.toHex().substring(0, 10) + "…)";
    }
}
