package neuron.engine.cli;

import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;

/** One {@code bin/neuron} command line run in this JVM: its exit status and what it printed on each stream. */
record CliRun(int status, String out, String err) {
    static CliRun of(String... args) {
        CommandLine cli = Main.commandLine();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        int status = cli.execute(args);
        return new CliRun(status, out.toString(), err.toString());
    }
}
