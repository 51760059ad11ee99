package neuron.engine.pth;

import com.fasterxml.jackson.databind.ObjectMapper;
import neuron.engine.testing.PythonTorch;
import neuron.engine.testing.Slow;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Floats spelled as Python's repr spells them: the shortest decimal that reads back, in Python's layout. */
@Slow
class PyFloatTest {
    @Test
    void shortestRoundTripInPythonsLayout() {
        Map<Double, String> cases = Map.ofEntries(
                Map.entry(Double.MIN_VALUE, "5e-324"),          // Java 17 prints 4.9E-324
                Map.entry(1e23, "1e+23"),
                Map.entry(0.1, "0.1"), Map.entry(0.1 + 0.2, "0.30000000000000004"), Map.entry(1e-4, "0.0001"),
                Map.entry(1e-5, "1e-05"), Map.entry(1e16, "1e+16"), Map.entry(1e15, "1000000000000000.0"),
                Map.entry(123456789012345680.0, "1.2345678901234568e+17"), Map.entry(2.5, "2.5"),
                Map.entry(-0.0, "-0.0"), Map.entry(0.0, "0.0"), Map.entry(100.0, "100.0"),
                Map.entry(Double.MAX_VALUE, "1.7976931348623157e+308"), Map.entry(Double.MIN_NORMAL, "2.2250738585072014e-308"),
                Map.entry(Double.NaN, "nan"), Map.entry(Double.POSITIVE_INFINITY, "inf"), Map.entry(-1.5e-7, "-1.5e-07"),
                Map.entry(2e-3, "0.002"));
        cases.forEach((value, repr) -> assertEquals(repr, PyFloat.repr(value), "repr of " + value));
    }

    /** Thousands of random doubles (random bit patterns, and decimals across 60 orders of magnitude): Python's repr. */
    @Test
    void agreesWithPythonOnRandomDoubles() throws Exception {
        PythonTorch.assumeAvailable();
        String out = PythonTorch.run("""
                import json, random, struct
                rng = random.Random(11)
                values = [5e-324, 1e23, 1e22, 9007199254740993.0, 4.35, 0.3, 1 / 3, 2 ** -1074 * 3]
                while len(values) < 4000:
                    x = struct.unpack('<d', rng.getrandbits(64).to_bytes(8, 'little'))[0]
                    if x == x and abs(x) != float('inf'):
                        values.append(x)
                values += [rng.uniform(-1, 1) * 10 ** rng.randint(-30, 30) for _ in range(2000)]
                print(json.dumps([[struct.pack('>d', x).hex(), repr(x)] for x in values]))
                """);
        String[] lines = out.strip().split("\n");
        List<?> pairs = new ObjectMapper().readValue(lines[lines.length - 1], List.class);
        assertEquals(6000, pairs.size());
        for (Object pair : pairs) {
            List<?> bitsAndRepr = (List<?>) pair;
            double value = Double.longBitsToDouble(Long.parseUnsignedLong((String) bitsAndRepr.get(0), 16));
            assertEquals(bitsAndRepr.get(1), PyFloat.repr(value), "repr of the double with bits " + bitsAndRepr.get(0));
        }
    }
}
