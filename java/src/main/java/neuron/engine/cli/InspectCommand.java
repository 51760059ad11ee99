package neuron.engine.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import neuron.engine.checkpoint.Failures;
import java.io.IOException;
import java.io.PrintWriter;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import neuron.engine.pth.PthFormatException;
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

    @Parameters(index = "0", paramLabel = "FILE", description = "the .pth file")
    Path file;

    @Option(names = "--json", description = "print JSON instead of an indented tree")
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
            return d.isNaN() || d.isInfinite() ? JSON.textNode(d.toString()) : JSON.numberNode(d);
        } else if (value instanceof String s) {
            return JSON.textNode(s);
        } else if (value instanceof PthTensor t) {
            ObjectNode tensor = JSON.objectNode();
            tensor.put("dtype", t.dtype().pythonName());
            ArrayNode shape = tensor.putArray("shape");
            ArrayNode stride = tensor.putArray("stride");
            Arrays.stream(t.shape()).forEach(shape::add);
            Arrays.stream(t.stride()).forEach(stride::add);
            tensor.put("storage", reader.data(t.storage()).key());
            tensor.put("offset", t.storageOffset());
            ObjectNode wrapped = JSON.objectNode();
            wrapped.set("tensor", tensor);
            return wrapped;
        } else if (value instanceof Map<?, ?> map) {
            ObjectNode object = JSON.objectNode();
            map.forEach((k, v) -> object.set(String.valueOf(k), jsonValue(reader, v)));
            return object;
        }
        ArrayNode array = JSON.arrayNode();
        items(value).forEach(item -> array.add(jsonValue(reader, item)));
        return array;
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
                return pythonFloat(d);
            }
            return String.valueOf(value);
        }

        /** Python's repr of a float: plain between 1e-4 and 1e16, else like 1e-08. */
        private static String pythonFloat(double d) {
            if (Double.isNaN(d) || Double.isInfinite(d)) {
                return Double.isNaN(d) ? "nan" : d > 0 ? "inf" : "-inf";
            }
            if (d == 0) {
                return 1 / d < 0 ? "-0.0" : "0.0";
            }
            BigDecimal exact = new BigDecimal(Double.toString(d)).stripTrailingZeros();
            double magnitude = Math.abs(d);
            if (magnitude >= 1e-4 && magnitude < 1e16) {
                String plain = exact.toPlainString();
                return plain.contains(".") ? plain : plain + ".0";
            }
            String digits = exact.unscaledValue().abs().toString();
            int exponent = digits.length() - 1 - exact.scale();
            String mantissa = digits.length() == 1 ? digits : digits.charAt(0) + "." + digits.substring(1);
            return (d < 0 ? "-" : "") + mantissa + "e" + (exponent < 0 ? "-" : "+")
                    + (Math.abs(exponent) < 10 ? "0" : "") + Math.abs(exponent);
        }

        private String tensor(PthTensor t) {
            String text = "tensor " + t.dtype().pythonName() + " " + Arrays.toString(t.shape());
            boolean dense = t.storageOffset() == 0 && Arrays.equals(t.stride(), PthTensor.contiguousStride(t.shape()));
            return dense ? text : text + " view of storage " + reader.data(t.storage()).key() + " at offset "
                    + t.storageOffset() + ", stride " + Arrays.toString(t.stride());
        }
    }
}
