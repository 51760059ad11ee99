package neuron.engine.pth;

import java.io.IOException;
import java.nio.file.Path;

/** A {@code .pth} file is damaged, hostile or outside what the reader supports; the message names the file. */
public class PthFormatException extends IOException {
    private final transient Path file;
    private final String reason;

    public PthFormatException(Path file, String reason) {
        super(file + ": " + reason);
        this.file = file;
        this.reason = reason;
    }

    public PthFormatException(Path file, String reason, Throwable cause) {
        super(file + ": " + reason, cause);
        this.file = file;
        this.reason = reason;
    }

    public Path file() {
        return file;
    }

    /** The message without the file name. */
    public String reason() {
        return reason;
    }
}
