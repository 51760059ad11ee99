package neuron.engine.extrinsic;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import neuron.engine.chain.scale.ScaleFormatException;
import neuron.engine.chain.scale.ScaleReader;
import neuron.engine.chain.scale.StorageHasher;

/**
 * A runtime's metadata as a node serves it ({@code RuntimeMetadataPrefixed}: "meta", then version 14 or 15),
 * decoded far enough to build and read extrinsics: the type registry, each pallet's index, call enum, event enum and
 * storage items, and the transaction extensions with the types of their "extra" (in the extrinsic) and "implicit"
 * (signed only) parts.
 */
public final class RuntimeMetadata {
    private static final long MAGIC = 0x6174656dL; // "meta", little-endian

    /** A pallet; {@code calls} and {@code events} are type ids, -1 when it has none. */
    public record Pallet(String name, int index, int calls, int events, Map<String, StorageItem> storage) {
    }

    /** A storage item; {@code hashers} empty for a plain value, else one per key (the key type a tuple then). */
    public record StorageItem(String name, List<StorageHasher> hashers, int key, int value) {
    }

    /** A transaction (signed) extension: {@code extra} is encoded in the extrinsic, {@code implicit} only signed. */
    public record TransactionExtension(String identifier, int extra, int implicit) {
    }

    /** A call as the runtime encodes it: pallet index, call index, then its arguments in order. */
    public record Call(String pallet, int palletIndex, String name, int index, List<TypeDef.Field> arguments) {
    }

    private final int version;
    private final PortableRegistry types;
    private final Map<String, Pallet> pallets;
    private final int extrinsicVersion;
    private final List<TransactionExtension> extensions;

    private RuntimeMetadata(int version, PortableRegistry types, Map<String, Pallet> pallets, int extrinsicVersion,
                            List<TransactionExtension> extensions) {
        this.version = version;
        this.types = types;
        this.pallets = pallets;
        this.extrinsicVersion = extrinsicVersion;
        this.extensions = extensions;
    }

    /** Decodes metadata V14 or V15; anything else, or bytes left over, is a {@link ScaleFormatException}. */
    public static RuntimeMetadata decode(byte[] bytes) {
        ScaleReader in = new ScaleReader(bytes);
        if (in.u32() != MAGIC) {
            throw new ScaleFormatException("not runtime metadata: no \"meta\" magic");
        }
        int version = in.u8();
        if (version != 14 && version != 15) {
            throw new ScaleFormatException("metadata version " + version + " is not supported (14 and 15 are)");
        }
        PortableRegistry types = PortableRegistry.read(in);
        Map<String, Pallet> pallets = new LinkedHashMap<>();
        int palletCount = in.length();
        for (int p = 0; p < palletCount; p++) {
            Pallet pallet = readPallet(in, version);
            pallets.put(pallet.name(), pallet);
        }
        int extrinsicVersion;
        if (version == 14) {
            PortableRegistry.id(in); // the extrinsic's type
            extrinsicVersion = in.u8();
        } else {
            extrinsicVersion = in.u8();
            for (int i = 0; i < 4; i++) { // address, call, signature and extra types
                PortableRegistry.id(in);
            }
        }
        List<TransactionExtension> extensions = new ArrayList<>();
        int extensionCount = in.length();
        for (int e = 0; e < extensionCount; e++) {
            extensions.add(new TransactionExtension(in.str(), PortableRegistry.id(in), PortableRegistry.id(in)));
        }
        PortableRegistry.id(in); // the runtime's type
        if (version == 15) {
            skipV15Tail(in);
        }
        in.expectEnd();
        return new RuntimeMetadata(version, types, pallets, extrinsicVersion, List.copyOf(extensions));
    }

    public int version() {
        return version;
    }

    public PortableRegistry types() {
        return types;
    }

    /** The extrinsic format version (4 for the signed extrinsics built here). */
    public int extrinsicVersion() {
        return extrinsicVersion;
    }

    public List<TransactionExtension> extensions() {
        return extensions;
    }

    public List<String> palletNames() {
        return List.copyOf(pallets.keySet());
    }

    public Pallet pallet(String name) {
        Pallet pallet = pallets.get(name);
        if (pallet == null) {
            throw new IllegalArgumentException("the runtime has no pallet " + name + "; it has " + pallets.keySet());
        }
        return pallet;
    }

    /** The call {@code pallet.call} (names as the metadata spells them: {@code System}, {@code remark_with_event}). */
    public Call call(String palletName, String callName) {
        Pallet pallet = pallet(palletName);
        if (pallet.calls() < 0) {
            throw new IllegalArgumentException("pallet " + palletName + " has no calls");
        }
        TypeDef.Enum calls = (TypeDef.Enum) types.def(pallet.calls());
        TypeDef.Variant call = calls.named(callName);
        if (call == null) {
            throw new IllegalArgumentException("pallet " + palletName + " has no call " + callName + "; it has "
                    + calls.variants().stream().map(TypeDef.Variant::name).collect(Collectors.joining(", ")));
        }
        return new Call(pallet.name(), pallet.index(), call.name(), call.index(), call.fields());
    }

    public StorageItem storage(String palletName, String item) {
        StorageItem entry = pallet(palletName).storage().get(item);
        if (entry == null) {
            throw new IllegalArgumentException("pallet " + palletName + " has no storage item " + item);
        }
        return entry;
    }

    private static Pallet readPallet(ScaleReader in, int version) {
        String name = in.str();
        Map<String, StorageItem> storage = new LinkedHashMap<>();
        if (in.bool()) {
            in.str(); // the storage prefix, the pallet's name
            int entries = in.length();
            for (int e = 0; e < entries; e++) {
                StorageItem item = readStorageItem(in);
                storage.put(item.name(), item);
            }
        }
        int calls = optionalType(in);
        int events = optionalType(in);
        int constants = in.length();
        for (int c = 0; c < constants; c++) {
            in.str();
            PortableRegistry.id(in);
            in.bytes();
            PortableRegistry.strings(in);
        }
        optionalType(in); // errors
        int index = in.u8();
        if (version == 15) {
            PortableRegistry.strings(in);
        }
        return new Pallet(name, index, calls, events, Map.copyOf(storage));
    }

    private static StorageItem readStorageItem(ScaleReader in) {
        String name = in.str();
        in.u8(); // modifier: optional or default
        StorageItem item;
        int kind = in.u8();
        if (kind == 0) {
            item = new StorageItem(name, List.of(), -1, PortableRegistry.id(in));
        } else if (kind == 1) {
            int count = in.length();
            List<StorageHasher> hashers = new ArrayList<>(count);
            for (int h = 0; h < count; h++) {
                int hasher = in.u8();
                if (hasher >= StorageHasher.values().length) {
                    throw new ScaleFormatException("unknown storage hasher " + hasher + " of " + name);
                }
                hashers.add(StorageHasher.values()[hasher]);
            }
            int key = PortableRegistry.id(in);
            item = new StorageItem(name, List.copyOf(hashers), key, PortableRegistry.id(in));
        } else {
            throw new ScaleFormatException("unknown storage entry kind " + kind + " of " + name);
        }
        in.bytes(); // default value
        PortableRegistry.strings(in);
        return item;
    }

    private static int optionalType(ScaleReader in) {
        return in.bool() ? PortableRegistry.id(in) : -1;
    }

    /** V15's runtime APIs, outer enums and custom values: read past, nothing here needs them. */
    private static void skipV15Tail(ScaleReader in) {
        int apis = in.length();
        for (int a = 0; a < apis; a++) {
            in.str();
            int methods = in.length();
            for (int m = 0; m < methods; m++) {
                in.str();
                int inputs = in.length();
                for (int i = 0; i < inputs; i++) {
                    in.str();
                    PortableRegistry.id(in);
                }
                PortableRegistry.id(in);
                PortableRegistry.strings(in);
            }
            PortableRegistry.strings(in);
        }
        for (int e = 0; e < 3; e++) { // call, event and error enums
            PortableRegistry.id(in);
        }
        int custom = in.length();
        for (int c = 0; c < custom; c++) {
            in.str();
            PortableRegistry.id(in);
            in.bytes();
        }
    }
}
