package neuron.engine.hf;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Map;

/** A Hugging Face model directory as {@code from_pretrained} reads it: {@code config.json} and {@code model.safetensors}. */
public final class HfDirectory {
    public static final String CONFIG = "config.json";
    public static final String WEIGHTS = "model.safetensors";
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private HfDirectory() {
    }

    /** {@code config.json} as a map (numbers as Integer, Long or Double, as JSON spells them). */
    public static Map<String, Object> readConfig(Path dir) throws IOException {
        Path file = dir.resolve(CONFIG);
        try {
            return JSON.readValue(file.toFile(), new TypeReference<Map<String, Object>>() { });
        } catch (JsonProcessingException e) {
            throw new IOException(file + ": not a JSON object: " + e.getOriginalMessage(), e);
        }
    }

    /** Writes {@code config.json}, replacing any earlier one only once the new one is complete. */
    public static void writeConfig(Path dir, Map<String, Object> config) throws IOException {
        Path partial = dir.resolve(CONFIG + ".tmp");
        Files.write(partial, JSON.writeValueAsBytes(config));
        Files.move(partial, dir.resolve(CONFIG), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }
}
