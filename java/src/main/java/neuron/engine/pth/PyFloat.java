package neuron.engine.pth;

import java.math.BigDecimal;
import java.math.MathContext;
import java.math.RoundingMode;

/**
 * Python's {@code repr} of a float: the shortest decimal that reads back as the same double (the closest one when
 * several are as short), plain between 1e-4 and 1e16, else in exponent form ({@code 1e-05}, {@code 1e+23}).
 * Java 17's {@code Double.toString} is not always the shortest ({@code 4.9E-324} for Python's {@code 5e-324}).
 */
public final class PyFloat {
    private static final int MAX_DIGITS = 17;   // enough to round-trip any double

    private PyFloat() {
    }

    public static String repr(double d) {
        if (Double.isNaN(d)) {
            return "nan";
        }
        if (Double.isInfinite(d)) {
            return d > 0 ? "inf" : "-inf";
        }
        if (d == 0) {
            return 1 / d < 0 ? "-0.0" : "0.0";
        }
        BigDecimal shortest = shortest(Math.abs(d));
        String digits = shortest.unscaledValue().toString();
        int point = digits.length() - shortest.scale();   // the value is 0.<digits> x 10^point
        return (d < 0 ? "-" : "") + (point > -4 && point <= 16 ? plain(digits, point) : exponent(digits, point - 1));
    }

    /** The fewest significant digits that round-trip; of the two neighbours with that many, the nearer. */
    private static BigDecimal shortest(double x) {
        BigDecimal exact = new BigDecimal(x);
        for (int precision = 1; precision < MAX_DIGITS; precision++) {
            BigDecimal best = null;
            for (RoundingMode mode : new RoundingMode[] {RoundingMode.HALF_EVEN, RoundingMode.FLOOR, RoundingMode.CEILING}) {
                BigDecimal candidate = exact.round(new MathContext(precision, mode));
                if (candidate.doubleValue() == x && (best == null
                        || candidate.subtract(exact).abs().compareTo(best.subtract(exact).abs()) < 0)) {
                    best = candidate;
                }
            }
            if (best != null) {
                return best.stripTrailingZeros();
            }
        }
        return exact.round(new MathContext(MAX_DIGITS, RoundingMode.HALF_EVEN)).stripTrailingZeros();
    }

    private static String plain(String digits, int point) {
        if (point <= 0) {
            return "0." + "0".repeat(-point) + digits;
        }
        if (point >= digits.length()) {
            return digits + "0".repeat(point - digits.length()) + ".0";
        }
        return digits.substring(0, point) + "." + digits.substring(point);
    }

    private static String exponent(String digits, int exponent) {
        String mantissa = digits.length() == 1 ? digits : digits.charAt(0) + "." + digits.substring(1);
        int magnitude = Math.abs(exponent);
        return mantissa + "e" + (exponent < 0 ? "-" : "+") + (magnitude < 10 ? "0" : "") + magnitude;
    }
}
