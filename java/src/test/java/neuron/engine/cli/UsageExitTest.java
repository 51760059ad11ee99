package neuron.engine.cli;

import neuron.engine.checkpoint.UsageException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Only the user's mistakes exit 2; an engine's own IllegalArgumentException is a failure, exit 1. */
class UsageExitTest {
    @TempDir
    Path dir;

    @Command(name = "broken")
    static final class Broken implements Callable<Integer> {
        @Override
        public Integer call() {
            throw new IllegalArgumentException("index 7 out of 3 in the engine");
        }
    }

    @Command(name = "refused")
    static final class Refused implements Callable<Integer> {
        @Override
        public Integer call() {
            throw new UsageException("--thing must be positive, got 0");
        }
    }

    /** The real command line with one more subcommand, run through the same exception handler as every command. */
    private static CliRun run(Object extra, String... args) {
        CommandLine cli = Main.commandLine();
        cli.addSubcommand(extra);
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        return new CliRun(cli.execute(args), out.toString(), err.toString());
    }

    @Test
    void anInternalIllegalArgumentIsAFailureWithItsMessage() {
        CliRun run = run(new Broken(), "broken");
        assertEquals(Main.EXIT_FAILURE, run.status(), run.err());
        assertEquals("neuron broken: index 7 out of 3 in the engine", run.err().strip());
    }

    @Test
    void aUsageExceptionIsBadUsage() {
        CliRun run = run(new Refused(), "refused");
        assertEquals(Main.EXIT_USAGE, run.status(), run.err());
        assertEquals("neuron refused: --thing must be positive, got 0", run.err().strip());
    }

    @Test
    void badFlagValuesOfTheRealCommandsExitTwo() {
        String ckpt = dir.resolve("c.pth").toString();
        String staging = dir.resolve("staging").toString();
        for (String[] args : new String[][] {
                {"miner", "--max_steps", "1", "--checkpoint_path", ckpt, "--staging_dir", staging, "--keep_backups", "-1"},
                {"miner", "--max_steps", "1", "--checkpoint_path", ckpt, "--staging_dir", staging, "--batch_size", "0"},
                {"miner", "--max_steps", "1", "--checkpoint_path", ckpt, "--staging_dir", staging, "--device", "tpu"},
                {"validator", "--until_block", "1", "--checkpoint_path", ckpt, "--staging_dir", staging,
                        "--journal_dir", dir.resolve("journal").toString(), "--uid", "70000"},
                {"keys", "new", "--key_type", "rsa", "--wallet.path", dir.resolve("wallets").toString()}}) {
            CliRun run = CliRun.of(args);
            assertEquals(Main.EXIT_USAGE, run.status(), String.join(" ", args) + ": " + run.err());
            assertEquals(1, run.err().lines().count(), run.err());
        }
    }
}
