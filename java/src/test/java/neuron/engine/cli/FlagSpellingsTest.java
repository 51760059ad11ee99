package neuron.engine.cli;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Model.OptionSpec;

import java.util.List;
import java.util.Locale;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Flags as users of argparse tools expect them, on every subcommand (so a flag added later is covered too): both
 * spellings, every default in the help, the nearest known flag for an unknown one.
 */
class FlagSpellingsTest {
    @Test
    void everyFlagOfEverySubcommandAnswersToBothSpellings() {
        int respelled = 0;
        for (Map.Entry<String, CommandLine> sub : Main.commandLine().getSubcommands().entrySet()) {
            Map<String, OptionSpec> options = sub.getValue().getCommandSpec().optionsMap();
            for (String name : options.keySet()) {
                String body = name.startsWith("--") ? name.substring(2) : "";
                if (body.contains("_") || body.contains("-")) {
                    String other = "--" + (body.contains("_") ? body.replace('_', '-') : body.replace('-', '_'));
                    assertTrue(options.get(other) == options.get(name), sub.getKey() + " " + name + " and " + other);
                    respelled++;
                }
            }
        }
        assertTrue(respelled > 40, "the commands have many two-word flags: " + respelled);

        CommandLine cli = Main.commandLine();
        CommandLine.ParseResult parsed = cli.parseArgs("miner", "--checkpoint-path", "a.pth", "--batch-size=3",
                "--max_steps", "9", "--warmup-steps", "7");
        CommandLine.ParseResult miner = parsed.subcommand();
        assertEquals("a.pth", miner.matchedOptionValue("--checkpoint_path", null).toString());
        assertEquals(3, (int) miner.matchedOptionValue("--batch_size", 0));
        assertEquals(7L, (long) miner.matchedOptionValue("--warmup_steps", 0L));
        assertEquals(9L, (long) miner.matchedOptionValue("--max-steps", 0L));
    }

    @Test
    void helpShowsTheDefaultOfEveryFlagThatTakesAValue() {
        for (String sub : Main.commandLine().getSubcommands().keySet()) {
            if (sub.equals("help")) {
                continue;
            }
            CliRun help = CliRun.of(sub, "--help");
            assertEquals(Main.EXIT_OK, help.status(), sub);
            CommandLine command = Main.commandLine().getSubcommands().get(sub);
            for (OptionSpec option : command.getCommandSpec().options()) {
                if (option.arity().max() == 0 || option.required()) {
                    continue;
                }
                String description = String.join(" ", option.description()).toLowerCase(Locale.ROOT);
                assertTrue(description.contains("default"), sub + " " + option.longestName() + ": " + description);
                assertTrue(!description.contains("${default-value}") && !description.contains("default: null"),
                        sub + " " + option.longestName() + ": " + description);
            }
            assertTrue(help.out().contains("--checkpoint-path is --checkpoint_path") || !help.out().contains("_"),
                    sub + " help says both spellings work:\n" + help.out());
        }
        CliRun miner = CliRun.of("miner", "--help");
        for (String shown : List.of("peak learning rate (default: 0.001)", "sequences per micro-batch (default: 8)",
                "linear warmup steps (default: 100)", "(default: 5000)", "(default: 0.1)", "(default: 1.0)")) {
            assertTrue(miner.out().replaceAll("\\s+", " ").contains(shown), shown + " in\n" + miner.out());
        }
        assertTrue(!miner.out().contains("--checkpoint-path="), "help lists each flag once:\n" + miner.out());
    }

    @Test
    void anUnknownFlagOrCommandGetsTheNearestKnownOne() {
        CliRun flag = CliRun.of("miner", "--checkpoint-paht", "x.pth");
        assertEquals(Main.EXIT_USAGE, flag.status());
        assertEquals(1, flag.err().lines().count(), flag.err());
        assertTrue(flag.err().contains("did you mean '--checkpoint_path'?"), flag.err());
        CliRun valued = CliRun.of("validator", "--untill_block=5");
        assertTrue(valued.err().contains("did you mean '--until_block'?"), valued.err());
        CliRun command = CliRun.of("minr");
        assertEquals(Main.EXIT_USAGE, command.status());
        assertTrue(command.err().contains("did you mean 'miner'?"), command.err());
        CliRun nothingNear = CliRun.of("miner", "--zzzzzzzzzzzz");
        assertTrue(!nothingNear.err().contains("did you mean"), nothingNear.err());
    }
}
