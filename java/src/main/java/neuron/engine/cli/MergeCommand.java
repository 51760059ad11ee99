package neuron.engine.cli;

import neuron.engine.dist.ShardMerge;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.OptionalLong;
import java.util.concurrent.Callable;

/** {@code neuron merge}: a sharded miner checkpoint as the one file a miner on its own writes. */
@Command(name = "merge", mixinStandardHelpOptions = true,
        description = "Write the one-file checkpoint of a complete step of a data-parallel group's sharded checkpoint.")
final class MergeCommand implements Callable<Integer> {
    @Option(names = "--checkpoint_path", paramLabel = "FILE", defaultValue = "miner_checkpoint.pth",
            description = "the group's checkpoint path; its shards are in FILE.shards/ (default: ${DEFAULT-VALUE})")
    Path checkpointPath;

    @Option(names = "--step", paramLabel = "N", description = "the step to merge (default: the newest complete one)")
    Long step;

    @Option(names = "--out", paramLabel = "FILE", required = true, description = "the file to write")
    Path out;

    @Override
    public Integer call() throws Exception {
        ShardMerge.Merged m = ShardMerge.merge(checkpointPath, step == null ? OptionalLong.empty()
                : OptionalLong.of(step), out);
        System.out.println("merged global_step " + m.step() + " from " + m.shards() + " shards into " + out + " ("
                + m.bytes() + " bytes)");
        return Main.EXIT_OK;
    }
}
