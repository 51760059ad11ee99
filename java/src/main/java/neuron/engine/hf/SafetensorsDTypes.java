package neuron.engine.hf;

import neuron.engine.pth.DType;

import java.util.Map;

/** The dtype codes of the safetensors header ({@code "F32"}, {@code "BF16"}, ...) for the dtypes that have one. */
final class SafetensorsDTypes {
    private static final Map<DType, String> CODES = Map.ofEntries(
            Map.entry(DType.FLOAT64, "F64"), Map.entry(DType.FLOAT32, "F32"), Map.entry(DType.FLOAT16, "F16"),
            Map.entry(DType.BFLOAT16, "BF16"), Map.entry(DType.INT64, "I64"), Map.entry(DType.INT32, "I32"),
            Map.entry(DType.INT16, "I16"), Map.entry(DType.INT8, "I8"), Map.entry(DType.UINT8, "U8"),
            Map.entry(DType.BOOL, "BOOL"), Map.entry(DType.UINT16, "U16"), Map.entry(DType.UINT32, "U32"),
            Map.entry(DType.UINT64, "U64"), Map.entry(DType.FLOAT8_E4M3FN, "F8_E4M3"),
            Map.entry(DType.FLOAT8_E5M2, "F8_E5M2"), Map.entry(DType.FLOAT8_E8M0FNU, "F8_E8M0"),
            Map.entry(DType.COMPLEX64, "C64"));

    private SafetensorsDTypes() {
    }

    /** The code of {@code dtype}; {@link IllegalArgumentException} for one safetensors cannot hold. */
    static String code(DType dtype) {
        String code = CODES.get(dtype);
        if (code == null) {
            throw new IllegalArgumentException("safetensors has no dtype for " + dtype.pythonName());
        }
        return code;
    }

    /** The dtype of {@code code}, or null for a code this reader does not know. */
    static DType of(String code) {
        for (Map.Entry<DType, String> entry : CODES.entrySet()) {
            if (entry.getValue().equals(code)) {
                return entry.getKey();
            }
        }
        return null;
    }
}
