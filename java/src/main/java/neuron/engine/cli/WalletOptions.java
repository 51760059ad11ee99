package neuron.engine.cli;

import java.nio.file.Path;

import neuron.engine.keys.Wallet;
import picocli.CommandLine.Option;

/** Which Bittensor wallet hotkey to use, with Bittensor's flags and defaults. */
final class WalletOptions {
    @Option(names = "--wallet.name", paramLabel = "NAME", defaultValue = Wallet.DEFAULT_NAME,
            description = "the wallet, a folder under --wallet.path (default: ${DEFAULT-VALUE})")
    String name;

    @Option(names = "--wallet.hotkey", paramLabel = "HOTKEY", defaultValue = Wallet.DEFAULT_HOTKEY,
            description = "the hotkey, a file in the wallet's hotkeys folder (default: ${DEFAULT-VALUE})")
    String hotkey;

    @Option(names = "--wallet.path", paramLabel = "DIR", defaultValue = "~/.bittensor/wallets",
            description = "where the wallets are; ~ is your home folder (default: ${DEFAULT-VALUE})")
    String path;

    Wallet wallet() {
        Path root = path.equals("~") || path.startsWith("~/")
                ? Path.of(System.getProperty("user.home") + path.substring(1)) : Path.of(path);
        return new Wallet(root, name, hotkey);
    }
}
