package neuron.engine.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code neuron keys new|show}: hotkeys in Bittensor's wallet layout. */
@Command(name = "keys", mixinStandardHelpOptions = true,
        description = "Make and show hotkeys in Bittensor's wallet layout (PATH/NAME/hotkeys/HOTKEY, "
                + "readable by you only). Never prints a secret.",
        subcommands = {KeysNewCommand.class, KeysShowCommand.class})
final class KeysCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }
}
