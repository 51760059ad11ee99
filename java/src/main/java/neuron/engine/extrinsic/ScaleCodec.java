package neuron.engine.extrinsic;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import neuron.engine.chain.scale.ScaleFormatException;
import neuron.engine.chain.scale.ScaleReader;
import neuron.engine.chain.scale.ScaleWriter;
import neuron.engine.chain.scale.TypeRegistry.Primitive;

/**
 * Encodes plain Java values as the SCALE of a runtime type by walking its registry, and decodes SCALE back to such
 * values. Integers are any {@link Number} or {@link BigInteger} (range-checked against the type); {@code Vec<u8>}
 * and {@code [u8; N]} are {@code byte[]} (an {@code AccountId32} too, its one field unwrapped); sequences, arrays
 * and tuples are lists; structs are maps by field name (or lists in field order); enums are {@link EnumValue}s
 * (or a bare variant name when it has no fields). Decoding gives the same shapes, integers as {@link BigInteger}.
 */
public final class ScaleCodec {
    private final PortableRegistry types;

    public ScaleCodec(PortableRegistry types) {
        this.types = types;
    }

    public byte[] encode(int type, Object value) {
        ScaleWriter out = new ScaleWriter();
        encode(type, value, out);
        return out.toByteArray();
    }

    public void encode(int type, Object value, ScaleWriter out) {
        TypeDef def = types.def(type);
        try {
            if (def instanceof TypeDef.Composite composite) {
                fields(composite.fields(), value, out);
            } else if (def instanceof TypeDef.Enum choices) {
                EnumValue chosen = value instanceof String name ? EnumValue.of(name) : (EnumValue) value;
                TypeDef.Variant variant = choices.named(chosen.name());
                if (variant == null) {
                    throw new IllegalArgumentException("no variant " + chosen.name());
                }
                out.u8(variant.index());
                fields(variant.fields(), chosen.value(), out);
            } else if (def instanceof TypeDef.Sequence sequence) {
                if (value instanceof byte[] bytes && isU8(sequence.type())) {
                    out.bytes(bytes);
                } else {
                    List<?> items = (List<?>) value;
                    out.compact(items.size());
                    items.forEach(item -> encode(sequence.type(), item, out));
                }
            } else if (def instanceof TypeDef.Array array) {
                int length = value instanceof byte[] bytes ? bytes.length : ((List<?>) value).size();
                if (length != array.length()) {
                    throw new IllegalArgumentException("an array of " + array.length() + ", got " + length);
                }
                if (value instanceof byte[] bytes && isU8(array.type())) {
                    out.raw(bytes);
                } else {
                    ((List<?>) value).forEach(item -> encode(array.type(), item, out));
                }
            } else if (def instanceof TypeDef.Tuple tuple) {
                List<?> items = tuple.types().size() == 1 && !(value instanceof List) ? List.of(value) : (List<?>) value;
                if (items.size() != tuple.types().size()) {
                    throw new IllegalArgumentException("a tuple of " + tuple.types().size() + ", got " + items.size());
                }
                for (int i = 0; i < items.size(); i++) {
                    encode(tuple.types().get(i), items.get(i), out);
                }
            } else if (def instanceof TypeDef.Prim prim) {
                primitive(prim.primitive(), value, out);
            } else if (def instanceof TypeDef.Compact) {
                out.compact(integer(value, 128, false));
            } else {
                throw new IllegalArgumentException("encoding bit sequences is not supported");
            }
        } catch (ClassCastException | NullPointerException e) {
            throw new IllegalArgumentException(describe(type) + " cannot be encoded from " + shown(value));
        } catch (IllegalArgumentException e) {
            if (e.getMessage() != null && e.getMessage().contains(" cannot be encoded from ")) {
                throw e;
            }
            throw new IllegalArgumentException(describe(type) + " cannot be encoded from " + shown(value) + ": "
                    + e.getMessage(), e);
        }
    }

    /** Reads one value of {@code type}. */
    public Object decode(int type, ScaleReader in) {
        TypeDef def = types.def(type);
        if (def instanceof TypeDef.Composite composite) {
            return decodeFields(composite.fields(), in);
        }
        if (def instanceof TypeDef.Enum choices) {
            int index = in.u8();
            TypeDef.Variant variant = choices.indexed(index);
            if (variant == null) {
                throw new ScaleFormatException(describe(type) + " has no variant " + index);
            }
            return new EnumValue(variant.name(), decodeFields(variant.fields(), in));
        }
        if (def instanceof TypeDef.Sequence sequence) {
            int count = in.length();
            return isU8(sequence.type()) ? in.raw(count) : decodeList(sequence.type(), count, in);
        }
        if (def instanceof TypeDef.Array array) {
            if (array.length() > in.remaining()) {
                throw new ScaleFormatException("an array of " + array.length() + " runs past the end");
            }
            return isU8(array.type()) ? in.raw((int) array.length()) : decodeList(array.type(), (int) array.length(), in);
        }
        if (def instanceof TypeDef.Tuple tuple) {
            List<Object> items = new ArrayList<>();
            tuple.types().forEach(member -> items.add(decode(member, in)));
            return items;
        }
        if (def instanceof TypeDef.Prim prim) {
            return decodePrimitive(prim.primitive(), in);
        }
        if (def instanceof TypeDef.Compact) {
            return in.compactBig();
        }
        TypeDef.BitSequence bits = (TypeDef.BitSequence) def;
        long count = in.compact();
        int storeBits = storeBits(bits.store());
        long words = (count + storeBits - 1) / storeBits;
        if (words * storeBits / 8 > in.remaining()) {
            throw new ScaleFormatException("a bit sequence of " + count + " bits runs past the end");
        }
        return in.raw((int) (words * storeBits / 8));
    }

    private void fields(List<TypeDef.Field> fields, Object value, ScaleWriter out) {
        if (fields.isEmpty()) {
            if (value != null && !(value instanceof List<?> l && l.isEmpty()) && !(value instanceof Map<?, ?> m && m.isEmpty())) {
                throw new IllegalArgumentException("no fields to hold " + shown(value));
            }
            return;
        }
        List<TypeDef.Field> sized = fields.stream().filter(f -> !types.isEmpty(f.type())).toList();
        if (sized.size() == 1 && !(value instanceof Map<?, ?> && sized.get(0).name() != null)) {
            encode(sized.get(0).type(), value, out); // a newtype, maybe next to markers (PhantomData)
            return;
        }
        if (value instanceof Map<?, ?> named) {
            List<String> names = fields.stream().map(TypeDef.Field::name).toList();
            if (!names.containsAll(named.keySet())) {
                throw new IllegalArgumentException("fields " + names + ", got " + named.keySet());
            }
            for (TypeDef.Field field : fields) {
                if (named.containsKey(field.name())) {
                    encode(field.type(), named.get(field.name()), out);
                } else if (!types.isEmpty(field.type())) { // a marker field (PhantomData) needs no value
                    throw new IllegalArgumentException("no value for field " + field.name());
                }
            }
            return;
        }
        List<?> items = (List<?>) value;
        if (items.size() != fields.size()) {
            throw new IllegalArgumentException(fields.size() + " fields, got " + items.size() + " values");
        }
        for (int i = 0; i < fields.size(); i++) {
            encode(fields.get(i).type(), items.get(i), out);
        }
    }

    private Object decodeFields(List<TypeDef.Field> fields, ScaleReader in) {
        if (fields.isEmpty()) {
            return null;
        }
        if (fields.size() == 1 && fields.get(0).name() == null) {
            return decode(fields.get(0).type(), in);
        }
        if (fields.get(0).name() == null) {
            List<Object> items = new ArrayList<>();
            fields.forEach(field -> items.add(decode(field.type(), in)));
            return items;
        }
        Map<String, Object> named = new LinkedHashMap<>();
        fields.forEach(field -> named.put(field.name(), decode(field.type(), in)));
        return named;
    }

    private List<Object> decodeList(int type, int count, ScaleReader in) {
        List<Object> items = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            items.add(decode(type, in));
        }
        return items;
    }

    private static void primitive(Primitive primitive, Object value, ScaleWriter out) {
        switch (primitive) {
            case BOOL -> out.bool((Boolean) value);
            case STR -> out.str((String) value);
            case U8, I8 -> out.raw(little(integer(value, 8, primitive == Primitive.I8), 1));
            case U16, I16 -> out.raw(little(integer(value, 16, primitive == Primitive.I16), 2));
            case U32, I32 -> out.raw(little(integer(value, 32, primitive == Primitive.I32), 4));
            case U64, I64 -> out.raw(little(integer(value, 64, primitive == Primitive.I64), 8));
            case U128, I128 -> out.raw(little(integer(value, 128, primitive == Primitive.I128), 16));
            case U256, I256 -> out.raw(little(integer(value, 256, primitive == Primitive.I256), 32));
            default -> throw new IllegalArgumentException("encoding " + primitive + " is not supported");
        }
    }

    private static Object decodePrimitive(Primitive primitive, ScaleReader in) {
        return switch (primitive) {
            case BOOL -> in.bool();
            case STR -> in.str();
            case CHAR -> BigInteger.valueOf(in.u32());
            case U8, U16, U32, U64, U128, U256 -> new BigInteger(1, big(in.raw(width(primitive))));
            default -> new BigInteger(big(in.raw(width(primitive))));
        };
    }

    private static int width(Primitive primitive) {
        return switch (primitive) {
            case U8, I8 -> 1;
            case U16, I16 -> 2;
            case CHAR, U32, I32 -> 4;
            case U64, I64 -> 8;
            case U128, I128 -> 16;
            default -> 32;
        };
    }

    /** A number of {@code bits} bits, two's complement when {@code signed}; anything else is refused. */
    static BigInteger integer(Object value, int bits, boolean signed) {
        BigInteger number;
        if (value instanceof BigInteger big) {
            number = big;
        } else if (value instanceof Long || value instanceof Integer || value instanceof Short || value instanceof Byte) {
            number = BigInteger.valueOf(((Number) value).longValue());
        } else {
            throw new IllegalArgumentException("not an integer: " + shown(value));
        }
        BigInteger min = signed ? BigInteger.ONE.shiftLeft(bits - 1).negate() : BigInteger.ZERO;
        BigInteger max = signed ? BigInteger.ONE.shiftLeft(bits - 1) : BigInteger.ONE.shiftLeft(bits);
        if (number.compareTo(min) < 0 || number.compareTo(max) >= 0) {
            throw new IllegalArgumentException(number + " is out of range for " + bits + " bits");
        }
        return number;
    }

    private static byte[] little(BigInteger value, int width) {
        byte[] out = new byte[width];
        byte fill = (byte) (value.signum() < 0 ? 0xFF : 0);
        byte[] bigEndian = value.toByteArray();
        for (int i = 0; i < width; i++) {
            out[i] = i < bigEndian.length ? bigEndian[bigEndian.length - 1 - i] : fill;
        }
        return out;
    }

    private static byte[] big(byte[] littleEndian) {
        byte[] out = new byte[littleEndian.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = littleEndian[out.length - 1 - i];
        }
        return out;
    }

    private boolean isU8(int type) {
        return types.def(type) instanceof TypeDef.Prim prim && prim.primitive() == Primitive.U8;
    }

    private int storeBits(int type) {
        if (types.def(type) instanceof TypeDef.Prim prim) {
            switch (prim.primitive()) {
                case U8: return 8;
                case U16: return 16;
                case U32: return 32;
                case U64: return 64;
                default: break;
            }
        }
        throw new ScaleFormatException("a bit sequence stored in " + describe(type));
    }

    private String describe(int type) {
        PortableRegistry.Type t = types.type(type);
        return "type " + type + (t.path().isEmpty() ? " (" + t.def().getClass().getSimpleName() + ")"
                : " (" + t.pathName() + ")");
    }

    private static String shown(Object value) {
        if (value == null) {
            return "nothing";
        }
        return value instanceof byte[] bytes ? bytes.length + " bytes" : value.getClass().getSimpleName();
    }
}
