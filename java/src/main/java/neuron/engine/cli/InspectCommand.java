package neuron.engine.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.util.RawValue;
import neuron.engine.checkpoint.Failures;
import java.io.IOException;
import java.io.PrintWriter;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import neuron.engine.pth.DType;
import neuron.engine.pth.PthFormatException;
import neuron.engine.pth.PyFloat;
import neuron.engine.pth.PthReader;
import neuron.engine.pth.PthTensor;
import neuron.engine.pth.PyOrderedDict;
import neuron.engine.pth.PyTuple;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code neuron inspect FILE.pth [--json] [--verify]}: the value tree of a torch.save file, read safely. */
@Command(name = "inspect", mixinStandardHelpOptions = true,
        description = "Print the value tree of a torch.save .pth file: keys, tensor dtypes and shapes, scalars, "
                + "total tensor bytes. Exit 0 for a good file, 1 for a damaged or hostile one, 2 for bad usage.")
public final class InspectCommand implements Callable<Integer> {
    private static final JsonNodeFactory JSON = JsonNodeFactory.instance;
    private static final int INLINE_ITEMS = 16;
    private static final Set<Object> WRAPPERS = Set.of("dict", "tuple", "float", "tensor", "dtype");

    @Parameters(index = "0", paramLabel = "FILE", description = "the .pth file")
    Path file;

    @Option(names = "--json", description = "print JSON that keeps Python's types apart (tuples from lists, int keys "
            + "from str keys) instead of an indented tree")
    boolean json;

    @Option(names = "--verify", description = "check every record's CRC-32 (torch.load never does)")
    boolean verify;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter err = spec.commandLine().getErr();
        if (!Files.isRegularFile(file) || !Files.isReadable(file)) {
            err.println("neuron inspect: " + file + ": not a readable file");
            return Main.EXIT_USAGE;
        }
        try (PthReader reader = PthReader.open(file)) {
            if (verify) {
                reader.verify();
            }
            PrintWriter out = spec.commandLine().getOut();
            if (json) {
                out.println(new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(summary(reader)));
            } else {
                out.println(file + ": archive '" + reader.archiveName() + "', " + reader.recordNames().size()
                        + " records, " + reader.storages().size() + " storages, " + reader.storageBytes()
                        + " bytes of tensor data" + (verify ? ", every CRC-32 checked" : ""));
                new TextTree(reader, out).print(reader.root());
            }
            out.flush();
            return Main.EXIT_OK;
        } catch (PthFormatException e) {
            err.println("neuron inspect: " + Failures.oneLine(e));
            return Main.EXIT_FAILURE;
        } catch (IOException e) {
            err.println("neuron inspect: " + file + ": " + Failures.oneLine(e));
            return Main.EXIT_FAILURE;
        }
    }

    private ObjectNode summary(PthReader reader) {
        ObjectNode node = JSON.objectNode();
        node.put("file", file.toString());
        node.put("archive", reader.archiveName());
        node.put("records", reader.recordNames().size());
        node.put("storages", reader.storages().size());
        node.put("tensor_bytes", reader.storageBytes());
        node.put("verified", verify);
        node.set("root", jsonValue(reader, reader.root()));
        return node;
    }

    /**
     * A value as JSON that keeps Python's types apart: a dict whose keys are all strings is an object, any other
     * dict {@code {"dict": [[key, value], ...]}}; a list is an array, a tuple {@code {"tuple": [...]}}; a float is a
     * number spelled as Python's repr spells it (nan and the infinities {@code {"float": "nan"}}), an int a number
     * without a point; a tensor {@code {"tensor": {...}}}, a dtype {@code {"dtype": "float32"}}. So an object with
     * exactly one of those wrapper names as its key is always a wrapper: a string-keyed dict that would look like
     * one is written in the {@code "dict"} form.
     */
    private static JsonNode jsonValue(PthReader reader, Object value) {
        if (value == null) {
            return JSON.nullNode();
        } else if (value instanceof Boolean b) {
            return JSON.booleanNode(b);
        } else if (value instanceof Long l) {
            return JSON.numberNode(l);
        } else if (value instanceof BigInteger big) {
            return JSON.numberNode(big);
        } else if (value instanceof Double d) {
            return d.isNaN() || d.isInfinite() ? wrapped("float", JSON.textNode(PyFloat.repr(d)))
                    : JSON.rawValueNode(new RawValue(PyFloat.repr(d)));
        } else if (value instanceof String s) {
            return JSON.textNode(s);
        } else if (value instanceof DType dtype) {
            return wrapped("dtype", JSON.textNode(dtype.pythonName()));
        } else if (value instanceof PthTensor t) {
            ObjectNode tensor = JSON.objectNode();
            tensor.put("dtype", t.dtype().pythonName());
            ArrayNode shape = tensor.putArray("shape");
            ArrayNode stride = tensor.putArray("stride");
            Arrays.stream(t.shape()).forEach(shape::add);
            Arrays.stream(t.stride()).forEach(stride::add);
            tensor.put("storage", reader.data(t.storage()).key());
            tensor.put("offset", t.storageOffset());
            tensor.put("nbytes", t.numel() * t.dtype().elementSize());
            return wrapped("tensor", tensor);
        } else if (value instanceof PyTuple tuple) {
            return wrapped("tuple", array(reader, tuple.items()));
        } else if (value instanceof Map<?, ?> map) {
            boolean plain = map.keySet().stream().allMatch(k -> k instanceof String)
                    && !(map.size() == 1 && WRAPPERS.contains(map.keySet().iterator().next()));
            if (plain) {
                ObjectNode object = JSON.objectNode();
                map.forEach((k, v) -> object.set((String) k, jsonValue(reader, v)));
                return object;
            }
            ArrayNode pairs = JSON.arrayNode();
            map.forEach((k, v) -> pairs.add(JSON.arrayNode().add(jsonValue(reader, k)).add(jsonValue(reader, v))));
            return wrapped("dict", pairs);
        }
        return array(reader, (List<?>) value);
    }

    private static ArrayNode array(PthReader reader, List<?> items) {
        ArrayNode array = JSON.arrayNode();
        items.forEach(item -> array.add(jsonValue(reader, item)));
        return array;
    }

    private static ObjectNode wrapped(String kind, JsonNode value) {
        ObjectNode node = JSON.objectNode();
        node.set(kind, value);
        return node;
    }

    /** The items of a list or tuple. */
    private static List<?> items(Object value) {
        return value instanceof PyTuple tuple ? tuple.items() : (List<?>) value;
    }

    /** One line per dict item or long list item, two spaces of indent per level, scalars in Python's spelling. */
    private static final class TextTree {
        private final PthReader reader;
        private final PrintWriter out;

        TextTree(PthReader reader, PrintWriter out) {
            this.reader = reader;
            this.out = out;
        }

        void print(Object root) {
            if (root instanceof Map<?, ?> || !inline(root)) {
                out.println(header(root));
                children(root, "  ");
            } else {
                out.println(scalar(root));
            }
        }

        private void children(Object value, String indent) {
            if (value instanceof Map<?, ?> map) {
                map.forEach((k, v) -> item(indent, scalar(k), v));
            } else if (value instanceof List<?> || value instanceof PyTuple) {
                List<?> items = items(value);
                for (int i = 0; i < items.size(); i++) {
                    item(indent, "[" + i + "]", items.get(i));
                }
            }
        }

        private void item(String indent, String label, Object value) {
            if (inline(value)) {
                out.println(indent + label + ": " + scalar(value));
            } else {
                out.println(indent + label + ": " + header(value));
                children(value, indent + "  ");
            }
        }

        /** Leaves, and short lists or tuples of leaves, fit on one line. */
        private static boolean inline(Object value) {
            if (value instanceof Map<?, ?>) {
                return false;
            }
            if (value instanceof List<?> || value instanceof PyTuple) {
                List<?> items = items(value);
                return items.size() <= INLINE_ITEMS && items.stream().allMatch(item -> !(item instanceof Map<?, ?>
                        || item instanceof List<?> || item instanceof PyTuple || item instanceof PthTensor));
            }
            return true;
        }

        private static String header(Object value) {
            if (value instanceof PyOrderedDict map) {
                return "OrderedDict (" + map.size() + " items)";
            }
            if (value instanceof Map<?, ?> map) {
                return "dict (" + map.size() + " items)";
            }
            return (value instanceof PyTuple ? "tuple" : "list") + " (" + items(value).size() + " items)";
        }

        private String scalar(Object value) {
            if (value == null) {
                return "None";
            } else if (value instanceof Boolean b) {
                return b ? "True" : "False";
            } else if (value instanceof String s) {
                return "'" + s.replace("\\", "\\\\").replace("'", "\\'").replace("\n", "\\n") + "'";
            } else if (value instanceof PthTensor t) {
                return tensor(t);
            } else if (value instanceof PyTuple tuple) {
                String joined = tuple.items().stream().map(this::scalar).collect(Collectors.joining(", "));
                return "(" + joined + (tuple.items().size() == 1 ? ",)" : ")");
            } else if (value instanceof List<?> list) {
                return list.stream().map(this::scalar).collect(Collectors.joining(", ", "[", "]"));
            } else if (value instanceof Double d) {
                return PyFloat.repr(d);
            } else if (value instanceof DType dtype) {
                return "torch." + dtype.pythonName();
            }
            return String.valueOf(value);
        }

        private String tensor(PthTensor t) {
            String text = "tensor " + t.dtype().pythonName() + " " + Arrays.toString(t.shape());
            boolean dense = t.storageOffset() == 0 && Arrays.equals(t.stride(), PthTensor.contiguousStride(t.shape()));
            return dense ? text : text + " view of storage " + reader.data(t.storage()).key() + " at offset "
                    + t.storageOffset() + ", stride " + Arrays.toString(t.stride());
        }
    }
}
