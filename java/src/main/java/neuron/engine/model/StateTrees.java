package neuron.engine.model;

import neuron.engine.pth.PyTuple;
import neuron.engine.torch.StoredTensor;
import org.bytedeco.pytorch.Tensor;

import java.util.List;
import java.util.Map;

/**
 * Typed reads from a state tree (Map / List / {@link PyTuple} / Long / Double / Boolean / null / Tensor), with
 * errors that name the missing or mistyped key. A tree that went through a file may hold an Integer where the
 * engine wrote a Long, so numbers are read through {@link Number}.
 */
public final class StateTrees {
    private StateTrees() {
    }

    public static Object required(Map<?, ?> map, String key) {
        if (!map.containsKey(key)) {
            throw new IllegalArgumentException("state has no '" + key + "' (keys: " + map.keySet() + ")");
        }
        return map.get(key);
    }

    public static long longValue(Map<?, ?> map, String key) {
        return as(Number.class, map, key).longValue();
    }

    public static int intValue(Map<?, ?> map, String key) {
        return Math.toIntExact(longValue(map, key));
    }

    public static double doubleValue(Map<?, ?> map, String key) {
        return as(Number.class, map, key).doubleValue();
    }

    public static Map<?, ?> map(Map<?, ?> map, String key) {
        return as(Map.class, map, key);
    }

    public static List<?> list(Map<?, ?> map, String key) {
        Object value = required(map, key);
        if (value instanceof PyTuple tuple) {
            return tuple.items();
        }
        return as(List.class, map, key);
    }

    /** A tensor value; one of a checkpoint being restored is read now, as a fresh CPU tensor. */
    public static Tensor tensor(Map<?, ?> map, String key) {
        if (required(map, key) instanceof StoredTensor stored) {
            return stored.materialize(key);
        }
        return as(Tensor.class, map, key);
    }

    /**
     * A tensor value as it is: a live {@link Tensor}, or a {@link StoredTensor} of a checkpoint being restored,
     * which {@link Tensors#copyInto} reads straight into its target.
     */
    public static Object tensorLeaf(Map<?, ?> map, String key) {
        Object value = required(map, key);
        if (value instanceof StoredTensor) {
            return value;
        }
        return as(Tensor.class, map, key);
    }

    public static <T> T as(Class<T> type, Map<?, ?> map, String key) {
        Object value = required(map, key);
        if (!type.isInstance(value)) {
            throw new IllegalArgumentException("state '" + key + "' should be a " + type.getSimpleName() + ", is "
                    + (value == null ? "None" : value.getClass().getSimpleName()));
        }
        return type.cast(value);
    }
}
