package neuron.engine.cli;

import picocli.CommandLine;
import picocli.CommandLine.Help;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Locale;

/**
 * Flags as users of argparse tools expect them, applied once to every command of a command line, so flags added
 * later get the same: each flag also answers to its other spelling ({@code --checkpoint_path} and
 * {@code --checkpoint-path}); every flag's help shows its default; an unknown flag or command gets the nearest known
 * one suggested. Help lists each flag under its declared name only, with one footer line about the other spelling.
 */
final class FlagSpellings {
    private static final String FOOTER = "Every flag may also be spelled with dashes for underscores (or the other way "
            + "round): --checkpoint-path is --checkpoint_path.";

    private FlagSpellings() {
    }

    static void apply(CommandLine cli) {
        CommandSpec spec = cli.getCommandSpec();
        List<OptionSpec> declared = new ArrayList<>(spec.options());
        declared.forEach(spec::remove);
        boolean respelledAny = false;
        for (OptionSpec option : declared) {
            OptionSpec respelled = respelled(option, spec);
            spec.addOption(respelled);
            respelledAny |= respelled.names().length > option.names().length;
        }
        if (respelledAny) {
            spec.usageMessage().footer(FOOTER);
        }
        cli.setHelpFactory((command, colors) -> new Help(command, colors) {
            @Override
            public IOptionRenderer createDefaultOptionRenderer() {
                IOptionRenderer plain = super.createDefaultOptionRenderer();
                // the copy is not part of the command: give it the description as the command renders it (with
                // its default filled in), '%' escaped again for the renderer's format
                return (option, label, scheme) -> plain.render(OptionSpec.builder(option).names(declaredNames(option))
                        .description(Arrays.stream(option.description()).map(line -> line.replace("%", "%%"))
                                .toArray(String[]::new)).build(), label, scheme);
            }
        });
        cli.getSubcommands().values().forEach(FlagSpellings::apply);
    }

    /** The option with its other spellings added and, if it has a default its help does not mention, that default. */
    private static OptionSpec respelled(OptionSpec option, CommandSpec command) {
        List<String> names = new ArrayList<>(List.of(option.names()));
        for (String name : option.names()) {
            String other = otherSpelling(name);
            if (other != null && !names.contains(other)) {
                names.add(other);
            }
        }
        OptionSpec.Builder builder = OptionSpec.builder(option).names(names.toArray(String[]::new));
        String[] description = option.description();
        boolean takesValue = option.arity().max() > 0;
        if (takesValue && hasDefault(option, command) && description.length > 0
                && !String.join(" ", description).toLowerCase(Locale.ROOT).contains("default")) {
            description = description.clone();
            description[description.length - 1] += " (default: ${DEFAULT-VALUE})";
            builder.description(description);
        }
        return builder.build();
    }

    /** A default from the annotation or from the command's default provider. */
    private static boolean hasDefault(OptionSpec option, CommandSpec command) {
        try {
            return option.defaultValue() != null || command.defaultValueProvider() != null
                    && command.defaultValueProvider().defaultValue(option) != null;
        } catch (Exception e) {
            throw new IllegalStateException("default value provider failed for " + option.longestName(), e);
        }
    }

    /** {@code --a_b} for {@code --a-b} and the other way round; null for a name with neither. */
    private static String otherSpelling(String name) {
        if (!name.startsWith("--")) {
            return null;
        }
        String body = name.substring(2);
        if (body.contains("_")) {
            return "--" + body.replace('_', '-');
        }
        return body.contains("-") ? "--" + body.replace('-', '_') : null;
    }

    /** The names without the spellings {@link #respelled} added: those that only differ in '-' and '_'. */
    private static String[] declaredNames(OptionSpec option) {
        List<String> shown = new ArrayList<>();
        for (String name : option.names()) {
            if (shown.stream().noneMatch(s -> normalized(s).equals(normalized(name)))) {
                shown.add(name);
            }
        }
        return shown.toArray(String[]::new);
    }

    /** "; did you mean '--checkpoint_path'?" for an unknown flag or command of {@code cmd}, or "" when none is near. */
    static String suggestion(CommandLine cmd, String unknown) {
        List<String> known = new ArrayList<>();
        if (unknown.startsWith("-")) {
            cmd.getCommandSpec().options().forEach(option -> known.addAll(List.of(declaredNames(option))));
        } else {
            known.addAll(cmd.getSubcommands().keySet());
        }
        return suggestion(unknown, known);
    }

    /** As above, among {@code known}: {@code unknown} may carry "=value". */
    static String suggestion(String unknown, Collection<String> known) {
        String typed = normalized(unknown.contains("=") ? unknown.substring(0, unknown.indexOf('=')) : unknown);
        String best = null;
        int bestDistance = Integer.MAX_VALUE;
        for (String candidate : known) {
            int distance = distance(typed, normalized(candidate));
            if (distance < bestDistance) {
                best = candidate;
                bestDistance = distance;
            }
        }
        return best != null && bestDistance <= Math.max(2, typed.length() / 3) ? "; did you mean '" + best + "'?" : "";
    }

    private static String normalized(String name) {
        return name.replaceFirst("^-+", "").replace('-', '_').toLowerCase(Locale.ROOT);
    }

    /** Levenshtein distance. */
    private static int distance(String a, String b) {
        int[] previous = new int[b.length() + 1];
        int[] current = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            previous[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            current[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int substitution = previous[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
                current[j] = Math.min(substitution, Math.min(previous[j], current[j - 1]) + 1);
            }
            int[] swap = previous;
            previous = current;
            current = swap;
        }
        return previous[b.length()];
    }
}
