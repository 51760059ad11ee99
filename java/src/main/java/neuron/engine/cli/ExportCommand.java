package neuron.engine.cli;

import neuron.engine.checkpoint.Failures;
import neuron.engine.hf.HfDirectory;
import neuron.engine.model.HfExport;
import neuron.engine.model.LlamaLayout;
import neuron.engine.pth.PthFormatException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code neuron export CHECKPOINT --to DIR}: a miner checkpoint's model as a Hugging Face directory
 * ({@link HfExport}).
 */
@Command(name = "export", mixinStandardHelpOptions = true,
        description = "Write the model of a miner checkpoint (the engine's, or one the Python miner wrote) as a Hugging "
                + "Face LLaMA directory: model.safetensors and config.json for LlamaForCausalLM, which "
                + "from_pretrained and 'neuron miner --init_from DIR' read. Exit 0 when written, 1 for a damaged "
                + "file, 2 for bad usage or a checkpoint that holds no LLaMA.")
final class ExportCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "CHECKPOINT", description = "the .pth checkpoint")
    Path checkpoint;

    @Option(names = "--to", paramLabel = "DIR", required = true, description = "the directory to write (created if needed)")
    Path to;

    @Option(names = "--heads", paramLabel = "N", description = "attention heads, for a checkpoint without the "
            + "engine's config (default: the preset's of that hidden size)")
    Integer heads;

    @Option(names = "--seq_len", paramLabel = "N", defaultValue = "2048", description = "max_position_embeddings, "
            + "for a checkpoint without the engine's config (default: ${DEFAULT-VALUE}, LlamaConfig's)")
    int seqLen;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter err = spec.commandLine().getErr();
        if (!Files.isRegularFile(checkpoint) || !Files.isReadable(checkpoint)) {
            err.println("neuron export: " + checkpoint + ": not a readable file");
            return Main.EXIT_USAGE;
        }
        try {
            HfExport.Written written = HfExport.write(checkpoint, to, heads, seqLen);
            PrintWriter out = spec.commandLine().getOut();
            out.println(String.format(Locale.ROOT, "neuron export: %s -> %s: %d tensors, %,d bytes (%s, %,d parameters) "
                    + "in %s, and %s", checkpoint, to, written.tensors(), written.bytes(),
                    LlamaLayout.describe(written.config()), written.config().parameterCount(), HfDirectory.WEIGHTS,
                    HfDirectory.CONFIG));
            out.flush();
            return Main.EXIT_OK;
        } catch (PthFormatException e) {
            err.println("neuron export: " + Failures.oneLine(e));
            return Main.EXIT_FAILURE;
        } catch (IllegalArgumentException e) {
            err.println("neuron export: " + checkpoint + ": " + Failures.oneLine(e));
            return Main.EXIT_USAGE;
        } catch (IOException e) {
            err.println("neuron export: " + Failures.oneLine(e));
            return Main.EXIT_FAILURE;
        }
    }
}
