package neuron.engine.model;

import neuron.engine.miner.MinerArguments;
import neuron.engine.miner.MinerLoop;
import neuron.engine.miner.MinerOptions;
import neuron.engine.miner.TrainTrees;
import neuron.engine.miner.TrainingOptions;
import neuron.engine.nativeio.LibTorch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Token sources, llm.c shard validation, batches as a pure function of (seed, step, data), CLI options. */
class TrainDataTest {

    @BeforeAll
    static void loadLibTorch() {
        LibTorch.load();
    }

    static Path shard(Path file, int magic, int version, int declaredCount, short... tokens) throws IOException {
        ByteBuffer bytes = ByteBuffer.allocate(TokenData.SHARD_HEADER_BYTES + 2 * tokens.length).order(ByteOrder.LITTLE_ENDIAN);
        bytes.putInt(0, magic).putInt(4, version).putInt(8, declaredCount);
        for (int i = 0; i < tokens.length; i++) {
            bytes.putShort(TokenData.SHARD_HEADER_BYTES + 2 * i, tokens[i]);
        }
        return Files.write(file, bytes.array());
    }

    static short[] constant(int count, int token) {
        short[] tokens = new short[count];
        Arrays.fill(tokens, (short) token);
        return tokens;
    }

    @Test
    void readsShardTokensAsUnsigned16Bit(@TempDir Path dir) throws IOException {
        short[] tokens = new short[100];
        for (int i = 0; i < tokens.length; i++) {
            tokens[i] = (short) (50_000 + i);   // above 32767: must not come back negative
        }
        TokenData data = TokenData.open(shard(dir.resolve("a.bin"), 20240520, 1, 100, tokens));
        assertEquals(100, data.tokenCount());
        assertEquals(50_099, data.maxToken());
        long[] batch = new long[3 * 10];
        data.fillBatch(1, 2, 3, 10, batch);
        for (int row = 0; row < 3; row++) {
            for (int j = 1; j < 10; j++) {
                assertEquals(batch[row * 10 + j - 1] + 1, batch[row * 10 + j], "a row is a contiguous window");
            }
        }
    }

    @Test
    void rejectsMalformedShardsWithTheReason(@TempDir Path dir) throws IOException {
        Path badMagic = shard(dir.resolve("magic.bin"), 1234, 1, 4, constant(4, 1));
        Path badVersion = shard(dir.resolve("version.bin"), 20240520, 2, 4, constant(4, 1));
        Path truncated = shard(dir.resolve("short.bin"), 20240520, 1, 9, constant(4, 1));
        Path headerOnly = Files.write(dir.resolve("tiny.bin"), new byte[100]);
        assertMessage(badMagic, "magic 1234");
        assertMessage(badVersion, "shard version 2");
        assertMessage(truncated, "header says 9 tokens");
        assertMessage(headerOnly, "shorter than the 1024-byte");
        assertMessage(dir.resolve("missing.txt"), "no such file");
    }

    private static void assertMessage(Path file, String expected) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TokenData.open(file));
        assertTrue(e.getMessage().contains(expected) && e.getMessage().contains(file.getFileName().toString()),
                e.getMessage());
    }

    @Test
    void directoryReadsItsShardsAndWindowsStayInsideOneFile(@TempDir Path dir) throws IOException {
        shard(dir.resolve("000.bin"), 20240520, 1, 40, constant(40, 1));
        shard(dir.resolve("001.bin"), 20240520, 1, 40, constant(40, 2));
        Files.writeString(dir.resolve("README.txt"), "not tokens");
        TokenData data = TokenData.open(dir);
        assertEquals(80, data.tokenCount());
        Set<Long> seen = new HashSet<>();
        long[] batch = new long[16 * 30];
        for (long step = 0; step < 8; step++) {
            data.fillBatch(0, step, 16, 30, batch);
            for (int row = 0; row < 16; row++) {
                long first = batch[row * 30];
                for (int j = 0; j < 30; j++) {
                    assertEquals(first, batch[row * 30 + j], "a window never spans two shards");
                }
                seen.add(first);
            }
        }
        assertEquals(Set.of(1L, 2L), seen);
    }

    @Test
    void textFilesAreByteTokensAndBatchesArePureFunctions(@TempDir Path dir) throws IOException {
        Path text = Files.writeString(dir.resolve("corpus.txt"), "hello, deterministic world! ".repeat(50));
        TokenData data = TokenData.open(text);
        assertEquals(28 * 50, data.tokenCount());
        assertEquals('w', data.maxToken());
        long[] first = new long[4 * 17];
        long[] again = new long[4 * 17];
        long[] nextStep = new long[4 * 17];
        data.fillBatch(9, 41, 4, 17, first);
        TokenData.open(text).fillBatch(9, 41, 4, 17, again);
        data.fillBatch(9, 42, 4, 17, nextStep);
        assertArrayEquals(first, again, "same (seed, step, data), same batch, in a fresh reader");
        assertFalse(Arrays.equals(first, nextStep), "another step, another batch");
    }

    @Test
    void tokensBeyondTheVocabularyAreAnErrorNotWrapped(@TempDir Path dir) throws IOException {
        Path text = Files.writeString(dir.resolve("high.txt"), "\u00ff".repeat(200), java.nio.charset.StandardCharsets.ISO_8859_1);
        MinerOptions options = MinerOptions.preset("tiny").withDevice("cpu").withThreads(1)
                .withModel(ModelConfig.preset("tiny").withVocab(128)).withData(text.toString());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> MinerLoop.create(options));
        assertTrue(e.getMessage().contains("token id 255") && e.getMessage().contains("at least 256"), e.getMessage());
    }

    @Test
    void restoreRefusesDataThatChanged(@TempDir Path dir) throws IOException {
        Path text = Files.writeString(dir.resolve("corpus.txt"), "the first corpus. ".repeat(40));
        Map<?, ?> copy;
        try (MinerLoop loop = MinerLoop.create(MinerArguments.parse("--device", "cpu", "--threads", "1",
                "--data", text.toString(), "--batch_size", "2"))) {
            loop.step();
            copy = (Map<?, ?>) TrainTrees.deepCopy(loop.state());
        }
        Files.writeString(text, "another corpus now! ".repeat(40));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> MinerLoop.restore(copy));
        assertTrue(e.getMessage().contains("differs"), e.getMessage());
    }

    @Test
    void commandLineOptionsOverrideThePreset() {
        MinerOptions options = MinerArguments.parse("--model", "small", "--vocab", "50304", "--seq_len", "128",
                "--lr", "4e-4", "--warmup_steps", "10", "--seed", "5", "--device", "cpu", "--threads", "3");
        assertEquals(ModelConfig.preset("small").withVocab(50304).withSeqLen(128), options.model());
        assertEquals(4e-4, options.training().lr());
        assertEquals(10, options.training().warmupSteps());
        assertEquals(TrainingOptions.defaults().decaySteps(), options.training().decaySteps());
        assertEquals(5, options.seed());
        assertEquals(3, options.threads());
        assertEquals(BuiltinCorpus.SOURCE, options.data());
    }
}
