package neuron.engine.extrinsic;

import java.util.HexFormat;
import java.util.List;

/**
 * How a submitted extrinsic ended: included (in a block, or finalized) or not, and why not. A refusal carries the
 * runtime's reason; {@code detail} is the node's own words. Nothing here is thrown: a neuron logs it and goes on.
 */
public record Submission(Status status, Refusal refusal, String detail, Inclusion inclusion) {
    public enum Status {
        /** In a finalized block. */
        FINALIZED,
        /** In a block that was not finalized (yet), as asked or when time ran out. */
        IN_BLOCK,
        /** The node would not take it (JSON-RPC error): see {@link Submission#refusal()}. */
        REFUSED,
        /** The pool dropped it (full, or replaced). */
        DROPPED,
        /** It became invalid in the pool (e.g. its nonce was used by another). */
        INVALID,
        /** Another extrinsic with the same nonce was included instead. */
        USURPED,
        /** The block it was in was not finalized in the node's time. */
        FINALITY_TIMEOUT,
        /** Neither included nor refused before the deadline. */
        TIMED_OUT,
        /** The node could not be reached, or the connection dropped while watching. */
        UNAVAILABLE
    }

    /** Where it was included: the block, its position there, and the events it emitted. */
    public record Inclusion(byte[] blockHash, long blockNumber, int index, List<ChainEvent> events) {
        /** Whether it ran (System.ExtrinsicSuccess); a failed dispatch is included too, with System.ExtrinsicFailed. */
        public boolean succeeded() {
            return events.stream().anyMatch(e -> e.is("System", "ExtrinsicSuccess"));
        }

        public String blockHashHex() {
            return "0x" + HexFormat.of().formatHex(blockHash);
        }
    }

    public boolean included() {
        return status == Status.FINALIZED || status == Status.IN_BLOCK;
    }

    static Submission ended(Status status, String detail) {
        return new Submission(status, null, detail, null);
    }
}
