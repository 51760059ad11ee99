package neuron.engine.extrinsic;

import java.util.ArrayList;
import java.util.List;
import neuron.engine.chain.scale.ScaleFormatException;
import neuron.engine.chain.scale.ScaleReader;
import neuron.engine.chain.scale.TypeRegistry.Primitive;

/** A runtime's types by id, as its metadata carries them: each with its path (e.g. {@code sp_runtime::MultiAddress}) and shape. */
public final class PortableRegistry {
    /** One type; {@code path} empty for anonymous ones (tuples, sequences, primitives). */
    public record Type(int id, List<String> path, TypeDef def) {
        public String pathName() {
            return String.join("::", path);
        }
    }

    private final List<Type> types;

    private PortableRegistry(List<Type> types) {
        this.types = types;
    }

    /** {@code PortableRegistry}: {@code Vec<{ id: Compact<u32>, ty: Type }>}, ids 0, 1, 2… in order. */
    static PortableRegistry read(ScaleReader in) {
        int count = in.length();
        List<Type> types = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            long id = in.compact();
            if (id != i) {
                throw new ScaleFormatException("type " + i + " of the registry has id " + id);
            }
            List<String> path = strings(in);
            int params = in.length();
            for (int p = 0; p < params; p++) {
                in.str();
                if (in.bool()) {
                    in.compact();
                }
            }
            TypeDef def = readDef(in);
            strings(in); // docs
            types.add(new Type(i, List.copyOf(path), def));
        }
        return new PortableRegistry(List.copyOf(types));
    }

    public Type type(int id) {
        if (id < 0 || id >= types.size()) {
            throw new ScaleFormatException("the metadata has no type " + id + " (it has " + types.size() + ")");
        }
        return types.get(id);
    }

    public TypeDef def(int id) {
        return type(id).def();
    }

    public int size() {
        return types.size();
    }

    /** Whether values of the type take no bytes at all (unit structs, empty tuples, zero-length arrays). */
    public boolean isEmpty(int id) {
        TypeDef def = def(id);
        if (def instanceof TypeDef.Composite c) {
            return c.fields().stream().allMatch(f -> isEmpty(f.type()));
        }
        if (def instanceof TypeDef.Tuple t) {
            return t.types().stream().allMatch(this::isEmpty);
        }
        return def instanceof TypeDef.Array a && (a.length() == 0 || isEmpty(a.type()));
    }

    /** The type inside newtype wrappers: structs with one field that takes bytes (next to markers such as PhantomData). */
    public int unwrap(int id) {
        while (def(id) instanceof TypeDef.Composite c) {
            List<TypeDef.Field> sized = c.fields().stream().filter(f -> !isEmpty(f.type())).toList();
            if (sized.size() != 1) {
                return id;
            }
            id = sized.get(0).type();
        }
        return id;
    }

    private static TypeDef readDef(ScaleReader in) {
        int kind = in.u8();
        return switch (kind) {
            case 0 -> new TypeDef.Composite(fields(in));
            case 1 -> {
                int count = in.length();
                List<TypeDef.Variant> variants = new ArrayList<>(count);
                for (int v = 0; v < count; v++) {
                    String name = in.str();
                    List<TypeDef.Field> fields = fields(in);
                    int index = in.u8();
                    strings(in);
                    variants.add(new TypeDef.Variant(name, index, fields));
                }
                yield new TypeDef.Enum(List.copyOf(variants));
            }
            case 2 -> new TypeDef.Sequence(id(in));
            case 3 -> new TypeDef.Array(in.u32(), id(in));
            case 4 -> {
                int count = in.length();
                List<Integer> members = new ArrayList<>(count);
                for (int m = 0; m < count; m++) {
                    members.add(id(in));
                }
                yield new TypeDef.Tuple(List.copyOf(members));
            }
            case 5 -> {
                int primitive = in.u8();
                if (primitive >= Primitive.values().length) {
                    throw new ScaleFormatException("unknown primitive type " + primitive);
                }
                yield new TypeDef.Prim(Primitive.values()[primitive]);
            }
            case 6 -> new TypeDef.Compact(id(in));
            case 7 -> new TypeDef.BitSequence(id(in), id(in));
            default -> throw new ScaleFormatException("unknown type definition kind " + kind);
        };
    }

    private static List<TypeDef.Field> fields(ScaleReader in) {
        int count = in.length();
        List<TypeDef.Field> fields = new ArrayList<>(count);
        for (int f = 0; f < count; f++) {
            String name = in.bool() ? in.str() : null;
            int type = id(in);
            String typeName = in.bool() ? in.str() : null;
            strings(in);
            fields.add(new TypeDef.Field(name, type, typeName));
        }
        return List.copyOf(fields);
    }

    static int id(ScaleReader in) {
        long id = in.compact();
        if (id > Integer.MAX_VALUE) {
            throw new ScaleFormatException("type id " + id + " is out of range");
        }
        return (int) id;
    }

    static List<String> strings(ScaleReader in) {
        int count = in.length();
        List<String> out = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            out.add(in.str());
        }
        return out;
    }
}
