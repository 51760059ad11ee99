package neuron.engine.journal;

import java.util.ArrayList;
import java.util.List;
import net.openhft.chronicle.bytes.Bytes;
import neuron.engine.chain.Block;
import neuron.engine.chain.BlockEvent;
import neuron.engine.network.Commitment;
import neuron.engine.network.Hash32;

/**
 * The journal's record layouts: one type byte, then fixed-size binary fields (raw bytes, no field names, so
 * an append allocates nothing and a replay decodes a block in tens of nanoseconds).
 * <pre>
 * 'B' block:      number i64, hash 32, parent hash 32, flags i8 (1 = reorg),          74 bytes
 *                 commitments i32, then each: kind i8 (0 update, 1 aggregate), uid i32,
 *                 window i64, hash 32                                                 + 4 + 45 per commitment
 * 'E' evaluation: window i64, uid i32, content hash 32, accepted i8, score f64        54 bytes
 * 'W' window end: window i64, evaluations i32                                         13 bytes
 * </pre>
 * A block and its commitments are one record, so a kill can never journal a block without them. A block record
 * that ends after its flags (written before blocks carried commitments) has none.
 */
final class JournalRecords {
    static final byte BLOCK = 'B';
    static final byte EVALUATION = 'E';
    static final byte WINDOW_EVALUATED = 'W';
    private static final byte REORG = 1;
    private static final int COMMITMENT_BYTES = 1 + 4 + 8 + Hash32.LENGTH;

    private JournalRecords() {
    }

    static void writeBlock(Bytes<?> out, BlockEvent event) {
        Block block = event.block();
        out.writeByte(BLOCK);
        out.writeLong(block.number());
        out.write(block.hash().bytesView());
        out.write(block.parentHash().bytesView());
        out.writeByte(event.reorg() ? REORG : 0);
        out.writeInt(block.commitments().size());
        for (Commitment c : block.commitments()) {
            out.writeByte((byte) c.kind().ordinal());
            out.writeInt(c.uid());
            out.writeLong(c.window());
            out.write(c.hash().bytesView());
        }
    }

    static void writeEvaluation(Bytes<?> out, Evaluation evaluation) {
        out.writeByte(EVALUATION);
        out.writeLong(evaluation.window());
        out.writeInt(evaluation.uid());
        out.write(evaluation.contentHash().bytesView());
        out.writeBoolean(evaluation.accepted());
        out.writeDouble(evaluation.score());
    }

    static void writeWindowEvaluated(Bytes<?> out, WindowEvaluated end) {
        out.writeByte(WINDOW_EVALUATED);
        out.writeLong(end.window());
        out.writeInt(end.evaluations());
    }

    /** The record in {@code in}: a {@link BlockEvent}, {@link Evaluation} or {@link WindowEvaluated}; null if unknown. */
    static Object read(Bytes<?> in) {
        byte type = in.readByte();
        switch (type) {
            case BLOCK -> {
                long number = in.readLong();
                Hash32 hash = readHash(in);
                Hash32 parent = readHash(in);
                boolean reorg = in.readByte() == REORG;
                return new BlockEvent(new Block(number, hash, parent, readCommitments(in)), reorg);
            }
            case EVALUATION -> {
                return new Evaluation(in.readLong(), in.readInt(), readHash(in), in.readBoolean(), in.readDouble());
            }
            case WINDOW_EVALUATED -> {
                return new WindowEvaluated(in.readLong(), in.readInt());
            }
            default -> {
                return null;
            }
        }
    }

    private static List<Commitment> readCommitments(Bytes<?> in) {
        if (in.readRemaining() < Integer.BYTES) {
            return List.of();
        }
        int count = in.readInt();
        if (count < 0 || count > in.readRemaining() / COMMITMENT_BYTES) {
            throw new IllegalStateException("a block record says it holds " + count + " commitments in "
                    + in.readRemaining() + " bytes");
        }
        List<Commitment> commitments = new ArrayList<>(count);
        Commitment.Kind[] kinds = Commitment.Kind.values();
        for (int i = 0; i < count; i++) {
            int ordinal = in.readByte();
            if (ordinal < 0 || ordinal >= kinds.length) {
                throw new IllegalStateException("a block record holds a commitment of unknown kind " + ordinal);
            }
            Commitment.Kind kind = kinds[ordinal];
            commitments.add(new Commitment(kind, in.readInt(), in.readLong(), readHash(in)));
        }
        return commitments;
    }

    private static Hash32 readHash(Bytes<?> in) {
        byte[] bytes = new byte[Hash32.LENGTH];
        in.read(bytes);
        return Hash32.adopt(bytes);
    }
}
