package neuron.engine.pth;

import java.util.List;

/** A value that pickles as a Python {@code tuple}; a {@link List} pickles as a {@code list}. */
public record PyTuple(List<Object> items) {
    public PyTuple {
        items = List.copyOf(items);
    }

    public static PyTuple of(Object... items) {
        return new PyTuple(java.util.Arrays.asList(items));
    }
}
