package neuron.engine.cli;

import neuron.engine.checkpoint.CheckpointMismatchException;
import neuron.engine.checkpoint.Failures;
import neuron.engine.checkpoint.UnusablePathException;
import neuron.engine.checkpoint.UsageException;
import neuron.engine.keys.WalletException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code bin/neuron}: the engine's command line. Exit status 0 ok, 1 failure, 2 bad usage or unusable path. */
@Command(name = "neuron",
        mixinStandardHelpOptions = true,
        version = "neuron engine 0.1.0",
        description = "Checkpointed training (miner) and evaluation (validator) on LibTorch.",
        subcommands = {MinerCommand.class, ValidatorCommand.class, ChainCommand.class, ReplayCommand.class,
                InspectCommand.class, ExportCommand.class, MergeCommand.class, DemoCommand.class, KeysCommand.class,
                CommandLine.HelpCommand.class})
public final class Main implements Runnable {

    public static final int EXIT_OK = 0;
    public static final int EXIT_FAILURE = 1;
    public static final int EXIT_USAGE = 2;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        System.exit(run(args));
    }

    public static int run(String... args) {
        CommandLine cli = commandLine();
        return cli.execute(args);
    }

    static CommandLine commandLine() {
        CommandLine cli = new CommandLine(new Main());
        FlagSpellings.apply(cli);
        cli.setParameterExceptionHandler(Main::badUsage);
        cli.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            cmd.getErr().println(cmd.getCommandSpec().qualifiedName() + ": " + Failures.oneLine(ex));
            return isUsageError(ex) ? EXIT_USAGE : EXIT_FAILURE;
        });
        return cli;
    }

    /** One line saying what is wrong and what is allowed (the nearest known flag for an unknown one), then exit 2. */
    private static int badUsage(CommandLine.ParameterException ex, String[] args) {
        CommandLine cmd = ex.getCommandLine();
        String name = cmd.getCommandSpec().qualifiedName();
        String hint = ex instanceof CommandLine.UnmatchedArgumentException unmatched && !unmatched.getUnmatched().isEmpty()
                ? FlagSpellings.suggestion(cmd, unmatched.getUnmatched().get(0)) : "";
        cmd.getErr().println(name + ": " + Failures.oneLine(ex) + hint + " (see '" + name + " --help')");
        return EXIT_USAGE;
    }

    /**
     * A bad flag value, an unusable path, a hotkey file refused or a checkpoint that does not fit: the user's to fix,
     * exit status 2. Any other exception, a plain {@link IllegalArgumentException} included, is the engine's: 1.
     */
    private static boolean isUsageError(Throwable t) {
        return t instanceof UsageException || t instanceof UnusablePathException
                || t instanceof CheckpointMismatchException || t instanceof WalletException;
    }

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }
}
