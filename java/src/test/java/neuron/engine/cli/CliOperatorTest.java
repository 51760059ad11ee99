package neuron.engine.cli;

import neuron.engine.testing.NeuronProcess;
import neuron.engine.testing.Slow;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What an operator sees: help everywhere, one line and exit 2 for bad usage, Prometheus figures, plain log lines. */
@Slow
class CliOperatorTest {
    @TempDir
    Path dir;

    private static int run(StringWriter out, StringWriter err, String... args) {
        var cli = Main.commandLine();
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        return cli.execute(args);
    }

    @Test
    void everySubcommandHasHelp() {
        for (String sub : Main.commandLine().getSubcommands().keySet()) {
            StringWriter out = new StringWriter();
            int status = run(out, new StringWriter(), sub, "--help");
            assertEquals(Main.EXIT_OK, status, sub);
            assertTrue(out.toString().contains("Usage: neuron " + sub), sub + ": " + out);
        }
    }

    @Test
    void badFlagsAndValuesGetOneLineAndExitTwo() {
        // --max_steps 1 / --until_block 1: should a bad value be accepted, the run still ends at once
        List<String[]> bad = List.of(
                new String[] {"miner", "--bogus"},
                new String[] {"miner", "--max_steps", "1", "--model", "bogus"},
                new String[] {"miner", "--max_steps", "1", "--checkpoint_interval", "0"},
                new String[] {"miner", "--max_steps", "1", "--checkpoint_path", "/proc/x/y.pth"},
                new String[] {"miner", "--max_steps", "1", "--metrics_csv", "/proc/x/m.csv"},
                new String[] {"miner", "--max_steps", "1", "--metrics_port", "70000"},
                new String[] {"validator", "--until_block", "1", "--checkpoint_interval", "0"},
                new String[] {"validator", "--until_block", "1", "--checkpoint_path", "/proc/x/v.pth"},
                new String[] {"validator", "--until_block", "x"},
                new String[] {"validator", "--until_block", "-1"},
                new String[] {"validator", "--until_block", "1", "--journal_dir", "/proc/x/journal"},
                new String[] {"demo", "--duration_s", "1"},
                new String[] {"demo", "--bogus"});
        for (String[] args : bad) {
            StringWriter err = new StringWriter();
            int status = run(new StringWriter(), err, inDir(args));
            assertEquals(Main.EXIT_USAGE, status, String.join(" ", args) + ": " + err);
            assertEquals(1, err.toString().lines().count(), String.join(" ", args) + ": " + err);
            assertTrue(err.toString().startsWith("neuron " + args[0] + ": "), err.toString());
        }
    }

    /** The run's files in this test's directory, not the working directory's defaults, unless the case names them. */
    private String[] inDir(String[] args) {
        List<String> all = new ArrayList<>(List.of(args));
        for (String[] own : List.of(new String[] {"--checkpoint_path", "c.pth"}, new String[] {"--journal_dir", "journal"},
                new String[] {"--staging_dir", "staging"})) {
            boolean applies = own[0].equals("--journal_dir") ? args[0].equals("validator") : !args[0].equals("demo");
            if (applies && !all.contains(own[0])) {
                all.add(own[0]);
                all.add(dir.resolve(own[1]).toString());
            }
        }
        return all.toArray(String[]::new);
    }

    @Test
    void aMinerServesPrometheusFiguresWritesCsvAndLogsPlainLines() throws Exception {
        int port;
        try (ServerSocket free = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = free.getLocalPort();
        }
        Path csv = dir.resolve("miner.csv");
        NeuronProcess miner = NeuronProcess.start(dir, dir.resolve("miner.log"), "miner",
                "--checkpoint_path", dir.resolve("m.pth").toString(), "--staging_dir", dir.resolve("staging").toString(),
                "--checkpoint_interval", "5", "--batch_size", "2", "--seq_len", "16", "--metrics_port",
                Integer.toString(port), "--metrics_csv", csv.toString());
        try {
            assertNotNull(miner.awaitLog("checkpoint persisted: step 10", 120_000), miner.log());
            HttpResponse<String> metrics = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + port + "/metrics")).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, metrics.statusCode());
            for (String figure : List.of("neuron_global_step ", "neuron_loss ", "neuron_tokens_per_second ",
                    "neuron_model_flops_utilisation ",
                    "neuron_checkpoints_persisted_total ", "neuron_checkpoint_bytes_written_total ",
                    "neuron_checkpoint_pause_seconds_bucket", "neuron_checkpoint_persist_seconds_count",
                    "neuron_checkpoint_last_step ")) {
                assertTrue(metrics.body().contains(figure), figure + " in\n" + metrics.body());
            }
            double mfu = metrics.body().lines().filter(l -> l.startsWith("neuron_model_flops_utilisation "))
                    .mapToDouble(l -> Double.parseDouble(l.substring(l.indexOf(' ') + 1))).findFirst().orElseThrow();
            assertTrue(mfu >= 0 && mfu < 1.5, "MFU against the rate measured at start-up: " + mfu);
        } finally {
            miner.process().destroy();  // SIGTERM: a graceful stop
        }
        assertEquals(143, miner.await(60), "stopped by SIGTERM after its final checkpoint: " + miner.log());
        String log = miner.log();
        assertTrue(log.contains("miner stopped at global_step"), log);
        assertTrue(log.lines().anyMatch(l -> l.matches("\\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z? ?\\S* \\[INFO\\] status - step \\d+ "
                + "\\| loss [\\d.]+ \\| [\\d,]+ tok/s \\| MFU ([\\d.]+%|-) .*")), "a timestamped status line:\n" + log);
        assertTrue(log.chars().noneMatch(c -> c < 0x20 && c != '\n'), "no control characters in the log");

        List<String> rows = Files.readAllLines(csv);
        assertEquals("global_step,loss", rows.get(0));
        assertTrue(rows.size() > 10 && rows.get(10).matches("10,[\\d.]+"), rows.subList(0, 11).toString());
    }
}
