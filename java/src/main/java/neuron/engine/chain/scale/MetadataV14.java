package neuron.engine.chain.scale;

import java.util.List;

/**
 * Runtime metadata V14 (frame-metadata's {@code RuntimeMetadataPrefixed}): the magic "meta", version 14, the
 * portable type registry, then what each pallet has (storage items, calls, constants) and the extrinsic format.
 * This is what {@code state_getMetadata} answers and what clients such as polkadot.js decode storage through.
 */
public final class MetadataV14 {
    private static final long MAGIC = 0x6174656dL; // "meta", little-endian
    private static final int VERSION = 14;

    /** A storage item; {@code hashers} empty for a plain value, else one per key of a map (key a tuple then). */
    public record StorageEntry(String name, boolean optional, List<StorageHasher> hashers, int key, int value,
                               byte[] defaultValue, List<String> docs) {
        public static StorageEntry plain(String name, int value, byte[] defaultValue, String doc) {
            return new StorageEntry(name, false, List.of(), -1, value, defaultValue, List.of(doc));
        }
    }

    public record Constant(String name, int type, byte[] value, String doc) {
    }

    /** One pallet: {@code calls} is the type of its call enum, or -1 when it has no calls. */
    public record Pallet(String name, int index, List<StorageEntry> storage, int calls, List<Constant> constants) {
    }

    private MetadataV14() {
    }

    /**
     * @param extrinsicType the type of an extrinsic ({@code UncheckedExtrinsic<Address, Call, Signature, Extra>})
     * @param runtimeType the runtime's own type
     */
    public static byte[] encode(TypeRegistry types, List<Pallet> pallets, int extrinsicType, int extrinsicVersion,
                                int runtimeType) {
        ScaleWriter out = new ScaleWriter().u32(MAGIC).u8(VERSION);
        types.writeTo(out);
        out.compact(pallets.size());
        for (Pallet pallet : pallets) {
            writePallet(out, pallet);
        }
        out.compact(extrinsicType).u8(extrinsicVersion).compact(0); // no signed extensions
        out.compact(runtimeType);
        return out.toByteArray();
    }

    private static void writePallet(ScaleWriter out, Pallet pallet) {
        out.str(pallet.name());
        if (pallet.storage().isEmpty()) {
            out.u8(0);
        } else {
            out.u8(1).str(pallet.name()).compact(pallet.storage().size());
            pallet.storage().forEach(entry -> writeEntry(out, entry));
        }
        if (pallet.calls() < 0) {
            out.u8(0);
        } else {
            out.u8(1).compact(pallet.calls());
        }
        out.u8(0); // events: this chain keeps none
        out.compact(pallet.constants().size());
        for (Constant constant : pallet.constants()) {
            out.str(constant.name()).compact(constant.type()).bytes(constant.value());
            TypeRegistry.strings(out, List.of(constant.doc()));
        }
        out.u8(0); // errors: none
        out.u8(pallet.index());
    }

    private static void writeEntry(ScaleWriter out, StorageEntry entry) {
        out.str(entry.name()).u8(entry.optional() ? 0 : 1);
        if (entry.hashers().isEmpty()) {
            out.u8(0).compact(entry.value());
        } else {
            out.u8(1).compact(entry.hashers().size());
            entry.hashers().forEach(hasher -> out.u8(hasher.ordinal()));
            out.compact(entry.key()).compact(entry.value());
        }
        out.bytes(entry.defaultValue());
        TypeRegistry.strings(out, entry.docs());
    }
}
