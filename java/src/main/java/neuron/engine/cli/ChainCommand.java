package neuron.engine.cli;

import java.io.IOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import neuron.engine.chain.local.ChainServer;
import neuron.engine.chain.local.LocalChain;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine;

/** {@code bin/neuron chain}: the embedded chain served over Substrate JSON-RPC WebSocket until the process is stopped. */
@Command(name = "chain", mixinStandardHelpOptions = true,
        description = "Serves the embedded chain over Substrate JSON-RPC WebSocket (chain_subscribeNewHeads, "
                + "chain_getBlockHash, chain_getHeader) and the window protocol's methods (neuron_commit, "
                + "neuron_commitments, neuron_setWeights, neuron_weights), so that several miners and validators make "
                + "one network with --chain ws://HOST:PORT. Runs until stopped (Ctrl-C, SIGTERM).")
public final class ChainCommand implements Callable<Integer> {

    @Option(names = "--port", defaultValue = "9944", description = "TCP port (0: any free port). Default: ${DEFAULT-VALUE}.")
    int port;

    @Option(names = "--host", defaultValue = "127.0.0.1", description = "Address to listen on. Default: ${DEFAULT-VALUE}.")
    String host;

    @Option(names = "--block_time_ms", defaultValue = "12000",
            description = "Milliseconds between blocks. Default: ${DEFAULT-VALUE} (the real chain's cadence).")
    long blockTimeMs;

    @Option(names = "--first_block", defaultValue = "0", description = "Number of the first block. Default: ${DEFAULT-VALUE}.")
    long firstBlock;

    @Option(names = "--seed", defaultValue = LocalChain.DEFAULT_SEED,
            description = "Seed of the block hashes: the same seed gives the same chain. Default: ${DEFAULT-VALUE}.")
    String seed;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws IOException, InterruptedException {
        if (port < 0 || port > 65_535) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--port must be 0..65535, got " + port);
        }
        if (blockTimeMs < 1) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--block_time_ms must be >= 1, got " + blockTimeMs);
        }
        if (firstBlock < 0) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--first_block must be >= 0, got " + firstBlock);
        }
        ChainServer server;
        try {
            server = ChainServer.start(new LocalChain(seed, blockTimeMs, firstBlock), new InetSocketAddress(host, port));
        } catch (BindException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                server.close();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            stopped.countDown();
        }, "chain-server-shutdown"));
        spec.commandLine().getOut().println("neuron chain: serving " + server.uri() + " (block time " + blockTimeMs + " ms)");
        spec.commandLine().getOut().flush();
        stopped.await();
        return Main.EXIT_OK;
    }
}
