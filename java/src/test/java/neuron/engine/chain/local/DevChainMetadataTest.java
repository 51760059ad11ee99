package neuron.engine.chain.local;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigInteger;
import java.util.List;
import neuron.engine.chain.scale.ScaleReader;
import neuron.engine.chain.scale.ScaleWriter;
import neuron.engine.chain.scale.StorageHasher;
import neuron.engine.extrinsic.ExtrinsicSigner;
import neuron.engine.extrinsic.RuntimeMetadata;
import neuron.engine.extrinsic.ScaleCodec;
import org.junit.jupiter.api.Test;

/** The dev chain's metadata, as its runtime encodes it, decoded by the client that builds extrinsics from metadata. */
class DevChainMetadataTest {
    private final LocalRuntime runtime = new LocalRuntime(12_000, new ChainState());

    @Test
    void theDecoderReadsBackWhatTheDevChainServes() {
        RuntimeMetadata metadata = RuntimeMetadata.decode(runtime.metadata());
        assertEquals(14, metadata.version());
        assertEquals(4, metadata.extrinsicVersion());
        assertEquals(List.of(), metadata.extensions());
        assertEquals(List.of("System", "Timestamp", "SubtensorModule", "Commitments"), metadata.palletNames());
        assertEquals(LocalRuntime.COMMITMENTS_INDEX, metadata.pallet("Commitments").index());
        RuntimeMetadata.StorageItem weights = metadata.storage("SubtensorModule", "Weights");
        assertEquals(List.of(StorageHasher.IDENTITY, StorageHasher.IDENTITY), weights.hashers());
        RuntimeMetadata.Call set = metadata.call("Timestamp", "set");
        assertEquals(LocalRuntime.TIMESTAMP_INDEX, set.palletIndex());
        assertEquals("now", set.arguments().get(0).name());

        // the call encoded from the metadata is the one inside the runtime's own timestamp inherent
        long now = runtime.timestamp(7);
        byte[] call = new ExtrinsicSigner(metadata).call("Timestamp", "set", now);
        byte[] inherent = runtime.extrinsics(7).get(0);
        ScaleReader in = new ScaleReader(inherent);
        in.length();
        assertEquals(4, in.u8());
        assertArrayEquals(in.raw(in.remaining()), call);

        // and a storage value decodes through the metadata's type of it
        ScaleCodec codec = new ScaleCodec(metadata.types());
        byte[] value = new ScaleWriter().compact(2).u16(3).u16(65535).u16(4).u16(1).toByteArray();
        assertEquals(List.of(List.of(BigInteger.valueOf(3), BigInteger.valueOf(65535)),
                List.of(BigInteger.valueOf(4), BigInteger.ONE)), codec.decode(weights.value(), new ScaleReader(value)));
        assertArrayEquals(value, codec.encode(weights.value(), List.of(List.of(3, 65535), List.of(4, 1))));
    }

    @Test
    void badArgumentsAndUnknownNamesAreOneClearLine() {
        ExtrinsicSigner signer = new ExtrinsicSigner(RuntimeMetadata.decode(runtime.metadata()));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> signer.call("Balances", "transfer"))
                .getMessage().startsWith("the runtime has no pallet Balances; it has [System"));
        assertEquals("pallet Timestamp has no call sett; it has set",
                assertThrows(IllegalArgumentException.class, () -> signer.call("Timestamp", "sett", 1L)).getMessage());
        assertEquals("Timestamp.set takes 1 arguments [now], got 0",
                assertThrows(IllegalArgumentException.class, () -> signer.call("Timestamp", "set")).getMessage());
        String negative = assertThrows(IllegalArgumentException.class, () -> signer.call("Timestamp", "set", -1L))
                .getMessage();
        assertTrue(negative.startsWith("Timestamp.set's argument now: type ") && negative.contains("out of range"), negative);
        String text = assertThrows(IllegalArgumentException.class, () -> signer.call("Timestamp", "set", "soon"))
                .getMessage();
        assertTrue(text.contains("cannot be encoded from String"), text);
    }

    @Test
    void aRuntimeWithAnExtensionItCannotSignForIsRefusedByName() {
        byte[] served = runtime.metadata();
        RuntimeMetadata metadata = RuntimeMetadata.decode(served);
        // the dev chain lists no extensions: its metadata ends with the extrinsic type, version 4, an empty list and
        // the runtime type (each id one compact byte); rewrite that tail with extensions
        int extrinsicType = served[served.length - 4] >>> 2;
        int runtimeType = served[served.length - 1] >>> 2;
        int u32 = metadata.storage("System", "Number").value();
        byte[] empty = withExtensions(served, extrinsicType, runtimeType, List.of("CheckWeight"), runtimeType);
        assertEquals(1, new ExtrinsicSigner(RuntimeMetadata.decode(empty)).metadata().extensions().size());
        byte[] fancy = withExtensions(served, extrinsicType, runtimeType, List.of("CheckWeight", "CheckFancy"), u32);
        assertEquals("cannot sign for this runtime: its transaction extension CheckFancy is not supported (extra type "
                        + u32 + ", implicit type " + u32 + ")",
                assertThrows(IllegalArgumentException.class, () -> new ExtrinsicSigner(RuntimeMetadata.decode(fancy)))
                        .getMessage());
    }

    /** The metadata with the given extensions: the first with empty parts, any other with parts of type {@code type}. */
    private static byte[] withExtensions(byte[] served, int extrinsicType, int runtimeType, List<String> names, int type) {
        ScaleWriter out = new ScaleWriter().raw(java.util.Arrays.copyOf(served, served.length - 4))
                .compact(extrinsicType).u8(4).compact(names.size());
        for (int i = 0; i < names.size(); i++) {
            int parts = i == 0 ? runtimeType : type;
            out.str(names.get(i)).compact(parts).compact(parts);
        }
        return out.compact(runtimeType).toByteArray();
    }
}
