package neuron.engine.chain;

import net.openhft.chronicle.bytes.Bytes;

/**
 * The journal's record layouts: one type byte, then fixed-size binary fields (raw bytes, no field names, so
 * an append allocates nothing and a replay decodes a block in tens of nanoseconds).
 * <pre>
 * 'B' block:      number i64, hash 32, parent hash 32, flags i8 (1 = reorg)          74 bytes
 * 'E' evaluation: window i64, uid i32, content hash 32, accepted i8, score f64        54 bytes
 * 'W' window end: window i64, evaluations i32                                         13 bytes
 * </pre>
 */
final class JournalRecords {
    static final byte BLOCK = 'B';
    static final byte EVALUATION = 'E';
    static final byte WINDOW_EVALUATED = 'W';
    private static final byte REORG = 1;

    private JournalRecords() {
    }

    static void writeBlock(Bytes<?> out, BlockEvent event) {
        Block block = event.block();
        out.writeByte(BLOCK);
        out.writeLong(block.number());
        out.write(block.hash().bytesView());
        out.write(block.parentHash().bytesView());
        out.writeByte(event.reorg() ? REORG : 0);
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
                return new BlockEvent(new Block(number, hash, parent), in.readByte() == REORG);
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

    private static Hash32 readHash(Bytes<?> in) {
        byte[] bytes = new byte[Hash32.LENGTH];
        in.read(bytes);
        return Hash32.adopt(bytes);
    }
}
