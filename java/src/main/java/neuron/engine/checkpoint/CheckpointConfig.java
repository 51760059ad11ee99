package neuron.engine.checkpoint;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * Where one loop's checkpoints go.
 *
 * @param path        the checkpoint file ({@code --checkpoint_path})
 * @param keepBackups how many previous checkpoints to keep ({@code --keep_backups})
 * @param stagingDir  the staging queue's directory ({@code --staging_dir}); null picks the default
 * @param fallback    where start-up looks when no local checkpoint loads
 * @param freshIfDiverged whether start-up, finding only checkpoints with NaN or infinities, starts fresh
 *                    ({@code --start_fresh_if_diverged}) instead of refusing
 */
public record CheckpointConfig(Path path, int keepBackups, Path stagingDir, CheckpointFallback fallback,
                               boolean freshIfDiverged) {
    public static final int DEFAULT_KEEP_BACKUPS = 2;
    private static final Path SHM = Path.of("/dev/shm");

    public CheckpointConfig {
        path = path.toAbsolutePath().normalize();
    }

    public CheckpointConfig(Path path, int keepBackups, Path stagingDir) {
        this(path, keepBackups, stagingDir, CheckpointFallback.NONE, false);
    }

    public CheckpointConfig withFallback(CheckpointFallback source) {
        return new CheckpointConfig(path, keepBackups, stagingDir, source, freshIfDiverged);
    }

    public CheckpointConfig withFreshIfDiverged(boolean fresh) {
        return new CheckpointConfig(path, keepBackups, stagingDir, fallback, fresh);
    }

    /**
     * The staging directory for states of {@code stateBytes}: the one given, else one on tmpfs
     * ({@code /dev/shm}) when the machine has it with room for three snapshots (one persisting, one waiting, the
     * next), so a snapshot costs no second disk write, else one beside the checkpoint (a container's 64 MiB
     * {@code /dev/shm} would otherwise skip every snapshot). Named after the checkpoint's full path, so two
     * processes with different checkpoints never share staging; a restart finds its own where it left it.
     */
    public Path resolvedStagingDir(long stateBytes) {
        if (stagingDir != null) {
            return stagingDir.toAbsolutePath().normalize();
        }
        String name = path.getFileName() + "-" + shortHash(path.toString());
        Path onTmpfs = SHM.resolve("neuron-staging").resolve(name);
        boolean roomy = Files.isDirectory(SHM) && Files.isWritable(SHM)
                && SHM.toFile().getUsableSpace() >= 3 * stateBytes;
        if (Files.isDirectory(onTmpfs) || roomy) {
            return onTmpfs;
        }
        return path.resolveSibling("." + name + ".staging");
    }

    public CheckpointFiles files() {
        return new CheckpointFiles(path, keepBackups);
    }

    private static String shortHash(String s) {
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(d, 0, 6);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
