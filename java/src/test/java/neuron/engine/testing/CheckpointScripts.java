package neuron.engine.testing;

/** Python snippets that check checkpoint files with the real torch.load. */
public final class CheckpointScripts {
    private CheckpointScripts() {
    }

    /**
     * {@code load(path)}: {@code torch.load(weights_only=True)}. Only torch 1.x, whose weights-only unpickler lacks
     * BINFLOAT (opcode 71), falls back to a full load, and only for that failure; torch 2 gets no fallback.
     */
    public static final String LOAD = """
            import sys, torch
            def load(path):
                try:
                    return torch.load(path, weights_only=True)
                except Exception as e:
                    if not torch.__version__.startswith('1.') or 'Unsupported operand 71' not in str(e):
                        raise
                    return torch.load(path, weights_only=False)
            """;

    /**
     * Loads argv[1] with {@code torch.load(weights_only=True)} (see {@link #LOAD}) and prints {@code KEY=value} for argv[2], then each top-level
     * tensor's dtype, shape and sum.
     */
    public static final String LOAD_AND_PRINT = LOAD + """
            path, key = sys.argv[1], sys.argv[2]
            ck = load(path)
            value = ck[key]
            print(key + '=' + str(int(value)))
            for k, v in ck.items():
                if isinstance(v, torch.Tensor):
                    print('tensor ' + k + ' ' + str(v.dtype) + ' ' + str(tuple(v.shape)) + ' ' + str(float(v.double().sum())))
            """;
}
