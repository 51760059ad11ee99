package neuron.engine.checkpoint;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;

/**
 * What a path is, as {@code lstat(2)} sees it: a symbolic link is not followed, and nothing is opened, so asking
 * about a FIFO never blocks. The engine opens, renames and deletes only regular files.
 */
public enum FileKind {
    ABSENT("nothing"),
    REGULAR("a regular file"),
    DIRECTORY("a directory"),
    SYMBOLIC_LINK("a symbolic link"),
    FIFO("a FIFO (named pipe)"),
    CHARACTER_DEVICE("a character device"),
    BLOCK_DEVICE("a block device"),
    SOCKET("a socket"),
    OTHER("a special file");

    private static final int S_IFMT = 0170000;

    private final String words;

    FileKind(String words) {
        this.words = words;
    }

    /** The kind of {@code path} itself (a link is not followed); {@link #ABSENT} if nothing is there. */
    public static FileKind of(Path path) throws IOException {
        try {
            Object mode = Files.getAttribute(path, "unix:mode", LinkOption.NOFOLLOW_LINKS);
            return ofMode((Integer) mode);
        } catch (NoSuchFileException e) {
            return ABSENT;
        } catch (UnsupportedOperationException | IllegalArgumentException noUnixView) {
            return ofBasic(path);
        }
    }

    private static FileKind ofMode(int mode) {
        return switch (mode & S_IFMT) {
            case 0100000 -> REGULAR;
            case 0040000 -> DIRECTORY;
            case 0120000 -> SYMBOLIC_LINK;
            case 0010000 -> FIFO;
            case 0020000 -> CHARACTER_DEVICE;
            case 0060000 -> BLOCK_DEVICE;
            case 0140000 -> SOCKET;
            default -> OTHER;
        };
    }

    private static FileKind ofBasic(Path path) throws IOException {
        try {
            BasicFileAttributes a = Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
            return a.isRegularFile() ? REGULAR : a.isDirectory() ? DIRECTORY : a.isSymbolicLink() ? SYMBOLIC_LINK
                    : OTHER;
        } catch (NoSuchFileException e) {
            return ABSENT;
        }
    }

    /** Whether nothing or a regular file is there: what may stand at a path the engine writes. */
    public boolean absentOrRegular() {
        return this == ABSENT || this == REGULAR;
    }

    /** {@code path} and what it is, for a message: "/x/c.pth is a FIFO (named pipe)", a link with its target. */
    public String describe(Path path) {
        String target = "";
        if (this == SYMBOLIC_LINK) {
            try {
                target = " (to " + Files.readSymbolicLink(path) + ")";
            } catch (IOException | UnsupportedOperationException e) {
                target = "";
            }
        }
        return path + " is " + words + target;
    }

    @Override
    public String toString() {
        return words;
    }
}
