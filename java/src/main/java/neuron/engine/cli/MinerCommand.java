package neuron.engine.cli;

import neuron.engine.nativeio.LibTorch;
import neuron.engine.train.MinerArguments;
import neuron.engine.train.MinerRun;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code neuron miner}: trains, checkpoints asynchronously, resumes from its checkpoint with no flag. */
@Command(name = "miner", mixinStandardHelpOptions = true,
        description = "Train a LLaMA-style model, checkpointing asynchronously; resumes from the checkpoint by itself.")
final class MinerCommand implements Callable<Integer> {
    @Mixin
    CheckpointOptions checkpoint;

    @Mixin
    MinerArguments training;

    @Option(names = "--max_steps", paramLabel = "N", defaultValue = "0",
            description = "stop gracefully once global_step reaches N (0: run until stopped)")
    long maxSteps;

    @Option(names = "--chain", description = "follow a chain and publish updates: local | ws://HOST:PORT")
    String chain;

    @Option(names = "--submissions", paramLabel = "DIR", description = "where the miner publishes its window updates")
    String submissions;

    @Option(names = "--uid", defaultValue = "0", description = "this miner's uid (default: ${DEFAULT-VALUE})")
    int uid;

    @Override
    public Integer call() throws Exception {
        MinerRun.Settings settings = new MinerRun.Settings(training.toOptions(), checkpoint.config("miner_checkpoint.pth"),
                checkpoint.checkpointInterval, maxSteps);
        LibTorch.load();
        return Session.run(checkpoint.metricsPort, (listener, metrics, status, stop) -> {
            MinerRun.run(settings, listener, (step, loss, tokensPerSecond, checkpointer) -> {
                metrics.trainingStep(step, loss, tokensPerSecond);
                status.show(String.format(Locale.ROOT, "step %d | loss %.4f | %,.0f tok/s", step, loss,
                        tokensPerSecond), checkpointer.backlog());
            }, stop);
        });
    }
}
