package neuron.engine.testing;

/** Python snippets that check checkpoint files with the real torch.load. */
public final class CheckpointScripts {
    private CheckpointScripts() {
    }

    /**
     * Loads argv[1] with {@code torch.load(weights_only=True)} and prints {@code KEY=value} for argv[2]. torch 1.13's
     * weights-only unpickler lacks BINFLOAT (opcode 71): only that failure falls back to a full load.
     */
    public static final String LOAD_AND_PRINT = """
            import sys, torch
            path, key = sys.argv[1], sys.argv[2]
            try:
                ck = torch.load(path, weights_only=True)
            except Exception as e:
                if 'Unsupported operand 71' not in str(e):
                    raise
                ck = torch.load(path, weights_only=False)
            value = ck[key]
            print(key + '=' + str(int(value)))
            for k, v in ck.items():
                if isinstance(v, torch.Tensor):
                    print('tensor ' + k + ' ' + str(v.dtype) + ' ' + str(tuple(v.shape)) + ' ' + str(float(v.double().sum())))
            """;
}
