package neuron.engine.validator;

import neuron.engine.testing.NeuronProcess;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A validator whose chain never answers (nothing listens at ws://127.0.0.1:1), stopped with SIGTERM, claims
 * nothing: a failing exit status (1, or 143 when the JVM ends on the signal itself) and a line that says no block
 * came and no checkpoint was written.
 */
class ValidatorUnreachableChainTest {
    @TempDir
    Path dir;

    @Test
    void aValidatorStoppedBeforeItsChainSentAnyBlockDoesNotClaimSuccess() throws Exception {
        Path ckpt = dir.resolve("v.pth");
        NeuronProcess validator = NeuronProcess.start(dir, dir.resolve("validator.log"), "validator",
                "--chain", "ws://127.0.0.1:1", "--checkpoint_path", ckpt.toString(),
                "--staging_dir", dir.resolve("staging").toString());
        assertNotNull(validator.awaitLog("Checkpointer - checkpoints: ", 120_000), validator.log());
        Thread.sleep(2_000);   // a few reconnection attempts; what is checked does not depend on how many
        validator.process().destroy();   // SIGTERM: a graceful stop
        int status = validator.await(120);
        assertTrue(status == 1 || status == 143, "a failure, or the signal's own status (128 + 15): " + status);
        String log = validator.log();
        assertTrue(log.contains("validator stopped before ws://127.0.0.1:1 sent any block: nothing "
                + "was validated; no checkpoint was written"), log);
        assertFalse(log.contains("is on disk"), log);
        assertFalse(Files.exists(ckpt));
    }
}
