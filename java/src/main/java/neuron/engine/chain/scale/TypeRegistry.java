package neuron.engine.chain.scale;

import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A scale-info portable type registry, as metadata V14 carries it: every type a pallet's storage, calls or
 * constants use, by id, each with its path, type parameters and definition. The same type added twice gets one id.
 */
public final class TypeRegistry {
    /** scale-info's primitive types, in its order. */
    public enum Primitive { BOOL, CHAR, STR, U8, U16, U32, U64, U128, U256, I8, I16, I32, I64, I128, I256 }

    /** A struct field or a variant's field; {@code name} null for a tuple-like one. */
    public record Field(String name, int type, String typeName) {
    }

    public record Variant(String name, int index, List<Field> fields, List<String> docs) {
    }

    /** A generic type's parameter ({@code T} of {@code Vec<T>}), with the concrete type it has here. */
    public record Param(String name, int type) {
    }

    private static final int COMPOSITE = 0;
    private static final int VARIANT = 1;
    private static final int SEQUENCE = 2;
    private static final int ARRAY = 3;
    private static final int TUPLE = 4;
    private static final int PRIMITIVE = 5;
    private static final int COMPACT = 6;

    private final Map<String, Integer> ids = new LinkedHashMap<>();
    private final List<byte[]> types = new ArrayList<>();

    public int primitive(Primitive primitive) {
        return add(List.of(), List.of(), new ScaleWriter().u8(PRIMITIVE).u8(primitive.ordinal()), List.of());
    }

    public int compact(int type) {
        return add(List.of(), List.of(), new ScaleWriter().u8(COMPACT).compact(type), List.of());
    }

    public int sequence(int type) {
        return add(List.of(), List.of(), new ScaleWriter().u8(SEQUENCE).compact(type), List.of());
    }

    public int array(long length, int type) {
        return add(List.of(), List.of(), new ScaleWriter().u8(ARRAY).u32(length).compact(type), List.of());
    }

    public int tuple(int... members) {
        ScaleWriter def = new ScaleWriter().u8(TUPLE).compact(members.length);
        for (int member : members) {
            def.compact(member);
        }
        return add(List.of(), List.of(), def, List.of());
    }

    /** A struct (named fields) or a newtype (one unnamed field), at {@code path} such as {@code sp_core::crypto::AccountId32}. */
    public int composite(List<String> path, List<Param> params, List<Field> fields, List<String> docs) {
        ScaleWriter def = new ScaleWriter().u8(COMPOSITE);
        fields(def, fields);
        return add(path, params, def, docs);
    }

    /** An enum; each variant has its own index, as the runtime encodes it. */
    public int variant(List<String> path, List<Param> params, List<Variant> variants, List<String> docs) {
        ScaleWriter def = new ScaleWriter().u8(VARIANT).compact(variants.size());
        for (Variant variant : variants) {
            def.str(variant.name());
            fields(def, variant.fields());
            def.u8(variant.index());
            strings(def, variant.docs());
        }
        return add(path, params, def, docs);
    }

    public int size() {
        return types.size();
    }

    /** {@code PortableRegistry}: {@code Vec<PortableType { id: Compact<u32>, ty: Type }>}. */
    void writeTo(ScaleWriter out) {
        out.compact(types.size());
        for (int id = 0; id < types.size(); id++) {
            out.compact(id).raw(types.get(id));
        }
    }

    static void strings(ScaleWriter out, List<String> strings) {
        out.compact(strings.size());
        strings.forEach(out::str);
    }

    static void optionalString(ScaleWriter out, String text) {
        if (text == null) {
            out.u8(0);
        } else {
            out.u8(1).str(text);
        }
    }

    private static void fields(ScaleWriter def, List<Field> fields) {
        def.compact(fields.size());
        for (Field field : fields) {
            optionalString(def, field.name());
            def.compact(field.type());
            optionalString(def, field.typeName());
            strings(def, List.of());
        }
    }

    private int add(List<String> path, List<Param> params, ScaleWriter def, List<String> docs) {
        ScaleWriter type = new ScaleWriter();
        strings(type, path);
        type.compact(params.size());
        for (Param param : params) {
            type.str(param.name()).u8(1).compact(param.type());
        }
        type.raw(def.toByteArray());
        strings(type, docs);
        byte[] encoded = type.toByteArray();
        return ids.computeIfAbsent(HexFormat.of().formatHex(encoded), key -> {
            types.add(encoded);
            return types.size() - 1;
        });
    }
}
