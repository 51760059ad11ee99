package neuron.engine.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import neuron.engine.chain.BlockEvent;
import neuron.engine.chain.BlockFeed;
import neuron.engine.chain.local.BlockFeeds;
import neuron.engine.testing.ChildJvm;
import neuron.engine.testing.Slow;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

@Slow
class ChainCommandTest {
    private static final Duration PATIENCE = Duration.ofSeconds(30);
    private static final Pattern SERVING = Pattern.compile("serving (ws://\\S+)");

    @TempDir
    Path dir;

    private static int run(StringWriter err, String... args) {
        var cli = Main.commandLine();
        cli.setErr(new PrintWriter(err, true));
        cli.setOut(new PrintWriter(new StringWriter(), true));
        return cli.execute(args);
    }

    @Test
    void badFlagsExitTwoWithOneLine() {
        for (String[] args : List.of(new String[] {"chain", "--port", "-1"}, new String[] {"chain", "--block_time_ms", "0"},
                new String[] {"chain", "--bogus"}, new String[] {"chain", "--port", "x"})) {
            StringWriter err = new StringWriter();
            assertEquals(Main.EXIT_USAGE, run(err, args), String.join(" ", args));
            assertEquals(1, err.toString().lines().count(), err.toString());
        }
        assertEquals(Main.EXIT_OK, run(new StringWriter(), "chain", "--help"));
    }

    @Test
    void aPortInUseExitsTwoWithOneLine() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            StringWriter err = new StringWriter();
            assertEquals(Main.EXIT_USAGE, run(err, "chain", "--port", Integer.toString(taken.getLocalPort())));
            assertEquals(1, err.toString().lines().count(), err.toString());
            assertTrue(err.toString().contains(Integer.toString(taken.getLocalPort())), err.toString());
        }
    }

    @Test
    void servesAChainThatAnotherProcessFollows() throws Exception {
        File log = dir.resolve("chain.log").toFile();
        Process chain = ChildJvm.start(ChildJvm.command(List.of(), Main.class, "chain", "--port", "0",
                "--block_time_ms", "5"), dir.toFile(), log);
        try {
            URI uri = awaitServing(chain, log);
            try (BlockFeed feed = BlockFeeds.open(uri.toString(), 0, null)) {
                long first = -1;
                for (int i = 0; i < 10; i++) {
                    BlockEvent event = feed.next(PATIENCE);
                    assertTrue(event != null, "a block from " + uri);
                    first = first < 0 ? event.number() : first;
                    assertEquals(first + i, event.number());
                }
            }
        } finally {
            chain.destroy();
            chain.waitFor(PATIENCE.toSeconds(), TimeUnit.SECONDS);
        }
    }

    private static URI awaitServing(Process chain, File log) throws Exception {
        long deadline = System.nanoTime() + PATIENCE.toNanos();
        while (System.nanoTime() < deadline && chain.isAlive()) {
            Optional<Matcher> serving = log.exists() ? Files.readAllLines(log.toPath()).stream()
                    .map(SERVING::matcher).filter(Matcher::find).findFirst() : Optional.empty();
            if (serving.isPresent()) {
                return URI.create(serving.get().group(1));
            }
            Thread.sleep(20);
        }
        throw new AssertionError("the chain server did not say where it serves: " + Files.readString(log.toPath()));
    }
}
