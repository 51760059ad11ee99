package neuron.engine.staging;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;

/**
 * A directory only this user can enter: Chronicle opens its queue files by path, so nobody else may be able to
 * put a link or a FIFO where it looks. The directory must be a real directory (not a link) owned by this user;
 * wider permissions than 0700 on one of its own are narrowed.
 */
public final class PrivateDirectory {
    private static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rwx------");

    private PrivateDirectory() {
    }

    /** Creates {@code dir} if missing and makes sure it is private; the exception says why it cannot be. */
    public static void require(Path dir, String what) throws IOException {
        Files.createDirectories(dir);
        if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
            throw new IOException(what + " " + dir + " is a symbolic link or no directory; give a directory of your "
                    + "own");
        }
        int owner = (Integer) Files.getAttribute(dir, "unix:uid", LinkOption.NOFOLLOW_LINKS);
        int self = (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid");
        if (owner != self) {
            throw new IOException(what + " " + dir + " belongs to user " + owner + ", not to this user (" + self
                    + "): others could change the files in it; give a directory of your own");
        }
        if (!Files.getPosixFilePermissions(dir, LinkOption.NOFOLLOW_LINKS).equals(OWNER_ONLY)) {
            Files.setPosixFilePermissions(dir, OWNER_ONLY);
        }
    }
}
