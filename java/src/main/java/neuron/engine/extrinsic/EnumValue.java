package neuron.engine.extrinsic;

/**
 * A value of an enum type: the variant's name and its fields' value (null for none, the value itself for one
 * field, a list or a name-keyed map for several). {@code Option} is the enum {@code None} / {@code Some(value)}.
 */
public record EnumValue(String name, Object value) {
    public static final EnumValue NONE = new EnumValue("None", null);

    public static EnumValue of(String name) {
        return new EnumValue(name, null);
    }

    public static EnumValue some(Object value) {
        return new EnumValue("Some", value);
    }
}
