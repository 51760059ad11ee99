package neuron.engine.checkpoint;

import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;

/** Failures as operators read them: one line. */
public final class Failures {
    private Failures() {
    }

    /**
     * The exception's message (or its class when it has none) on one line. A file system exception that names
     * only its file (Java's are like that) gets its cause spelled out: "/x/c.pth.2: directory not empty".
     */
    public static String oneLine(Throwable t) {
        String msg = t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
        if (t instanceof FileSystemException fs && fs.getReason() == null) {
            msg = msg + ": " + reason(fs);
        }
        return msg.replace('\n', ' ');
    }

    private static String reason(FileSystemException e) {
        if (e instanceof AccessDeniedException) {
            return "permission denied";
        }
        if (e instanceof NoSuchFileException) {
            return "no such file or directory";
        }
        if (e instanceof DirectoryNotEmptyException) {
            return "directory not empty";
        }
        if (e instanceof FileAlreadyExistsException) {
            return "already exists";
        }
        if (e instanceof NotDirectoryException) {
            return "not a directory";
        }
        return e.getClass().getSimpleName();
    }
}
