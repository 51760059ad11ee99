package neuron.engine.extrinsic;

import java.util.List;
import neuron.engine.chain.scale.TypeRegistry.Primitive;

/** The shape of one type of a runtime's portable type registry (scale-info's {@code TypeDef}). */
public sealed interface TypeDef {
    /** A field of a struct or of a variant; {@code name} null for a tuple-like one. */
    record Field(String name, int type, String typeName) {
    }

    record Variant(String name, int index, List<Field> fields) {
    }

    record Composite(List<Field> fields) implements TypeDef {
    }

    record Enum(List<Variant> variants) implements TypeDef {
        public Variant named(String name) {
            return variants.stream().filter(v -> v.name().equals(name)).findFirst().orElse(null);
        }

        public Variant indexed(int index) {
            return variants.stream().filter(v -> v.index() == index).findFirst().orElse(null);
        }
    }

    record Sequence(int type) implements TypeDef {
    }

    record Array(long length, int type) implements TypeDef {
    }

    record Tuple(List<Integer> types) implements TypeDef {
    }

    record Prim(Primitive primitive) implements TypeDef {
    }

    record Compact(int type) implements TypeDef {
    }

    /** A {@code BitVec<store, order>}: a compact bit count, then whole store words. */
    record BitSequence(int store, int order) implements TypeDef {
    }
}
