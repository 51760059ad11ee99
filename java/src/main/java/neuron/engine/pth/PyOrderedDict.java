package neuron.engine.pth;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A value that pickles as {@code collections.OrderedDict} (a module's {@code state_dict()} is one).
 * A plain {@link Map} pickles as a Python {@code dict}. Both keep insertion order.
 */
public final class PyOrderedDict extends LinkedHashMap<Object, Object> {
    public PyOrderedDict() {
    }

    public PyOrderedDict(Map<?, ?> entries) {
        super(entries);
    }
}
