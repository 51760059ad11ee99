package neuron.engine.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.util.concurrent.Callable;

import neuron.engine.keys.KeyPair;
import neuron.engine.keys.KeyType;
import neuron.engine.keys.Wallet;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code neuron keys new}: a fresh hotkey from a new 12-word mnemonic, written 0600; prints only public parts. */
@Command(name = "new", mixinStandardHelpOptions = true,
        description = "Make a hotkey from a fresh 12-word mnemonic and write it (mode 0600, folders 0700). Prints its "
                + "SS58 address and public key; the secret phrase stays in the file only.")
final class KeysNewCommand implements Callable<Integer> {
    @Mixin
    WalletOptions wallet;

    @Option(names = "--key_type", paramLabel = "TYPE", defaultValue = "sr25519",
            description = "sr25519 (Bittensor's) | ed25519 (default: ${DEFAULT-VALUE})")
    String keyType;

    @Option(names = "--overwrite", arity = "0..1", paramLabel = "BOOL", defaultValue = "false",
            description = "replace an existing hotkey file, losing its key (default: ${DEFAULT-VALUE})")
    boolean overwrite;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        KeyType type;
        try {
            type = KeyType.parse(keyType);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--key_type: " + e.getMessage());
        }
        Wallet target = wallet.wallet();
        KeyPair key = target.createHotkey(type, overwrite);
        PrintWriter out = spec.commandLine().getOut();
        out.println("neuron keys: wrote " + type + " hotkey '" + target.hotkey() + "' of wallet '" + target.name()
                + "' to " + target.hotkeyFile());
        KeysShowCommand.printPublic(out, key);
        out.println("The file holds the key's secret phrase: keep a copy of it offline; anyone who reads it acts "
                + "as this hotkey.");
        out.flush();
        return Main.EXIT_OK;
    }
}
