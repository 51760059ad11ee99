package neuron.engine.cli;

import java.io.PrintWriter;
import java.util.HexFormat;
import java.util.concurrent.Callable;

import neuron.engine.keys.KeyPair;
import neuron.engine.keys.Ss58;
import neuron.engine.keys.Wallet;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code neuron keys show}: a hotkey's address, public key and type, its file checked as a neuron checks it. */
@Command(name = "show", mixinStandardHelpOptions = true,
        description = "Load a hotkey as the miner and validator do (owner-only file, key matching its publicKey) and "
                + "print its SS58 address, public key and type.")
final class KeysShowCommand implements Callable<Integer> {
    @Mixin
    WalletOptions wallet;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        Wallet source = wallet.wallet();
        KeyPair key = source.loadHotkey();
        PrintWriter out = spec.commandLine().getOut();
        out.println("wallet '" + source.name() + "', hotkey '" + source.hotkey() + "' (" + source.hotkeyFile() + ")");
        out.println("  type          " + key.type());
        printPublic(out, key);
        out.flush();
        return Main.EXIT_OK;
    }

    static void printPublic(PrintWriter out, KeyPair key) {
        out.println("  ss58 address  " + Ss58.encode(key.publicKey()));
        out.println("  public key    0x" + HexFormat.of().formatHex(key.publicKey()));
    }
}
