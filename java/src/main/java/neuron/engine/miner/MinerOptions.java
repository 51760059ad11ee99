package neuron.engine.miner;

import java.util.LinkedHashMap;
import java.util.Map;
import neuron.engine.checkpoint.UsageException;
import neuron.engine.model.BuiltinCorpus;
import neuron.engine.model.Devices;
import neuron.engine.model.ModelConfig;
import neuron.engine.model.Precision;
import neuron.engine.model.StateTrees;

/**
 * Everything that fixes a miner's run: model shape, training settings, data source ({@code TokenData#source()}
 * spelling), seed, device choice and LibTorch's intra-op thread count (results are bit-reproducible only for
 * the same thread count, so it is part of the run), and the precision of the matrix products ({@link Precision}'s
 * choices; float32 master weights either way, so a run may change it across a resume).
 */
public record MinerOptions(ModelConfig model, TrainingOptions training, String data, long seed, String device,
                           int threads, String precision) {

    public MinerOptions {
        if (threads <= 0) {
            throw new UsageException("threads must be positive, got " + threads);
        }
        if (!Devices.CHOICES.contains(device)) {
            throw new UsageException("unknown device '" + device + "'; one of " + Devices.CHOICES);
        }
        if (!Precision.CHOICES.contains(precision)) {
            throw new UsageException("unknown precision '" + precision + "'; one of " + Precision.CHOICES);
        }
    }

    /** Precision {@code auto}: bf16 on CUDA, fp32 on the CPU. */
    public MinerOptions(ModelConfig model, TrainingOptions training, String data, long seed, String device,
                        int threads) {
        this(model, training, data, seed, device, threads, "auto");
    }

    /** A preset on the built-in corpus with default training settings, seed 0, CPU, all cores. */
    public static MinerOptions preset(String preset) {
        return new MinerOptions(ModelConfig.preset(preset), TrainingOptions.defaults(), BuiltinCorpus.SOURCE, 0,
                "auto", Runtime.getRuntime().availableProcessors());
    }

    public MinerOptions withData(String newData) {
        return new MinerOptions(model, training, newData, seed, device, threads, precision);
    }

    public MinerOptions withModel(ModelConfig newModel) {
        return new MinerOptions(newModel, training, data, seed, device, threads, precision);
    }

    public MinerOptions withTraining(TrainingOptions newTraining) {
        return new MinerOptions(model, newTraining, data, seed, device, threads, precision);
    }

    public MinerOptions withSeed(long newSeed) {
        return new MinerOptions(model, training, data, newSeed, device, threads, precision);
    }

    public MinerOptions withDevice(String newDevice) {
        return new MinerOptions(model, training, data, seed, newDevice, threads, precision);
    }

    public MinerOptions withThreads(int newThreads) {
        return new MinerOptions(model, training, data, seed, device, newThreads, precision);
    }

    public MinerOptions withPrecision(String newPrecision) {
        return new MinerOptions(model, training, data, seed, device, threads, newPrecision);
    }

    /** The checkpoint's {@code config} entry (the seed is stored beside it, as {@code seed}). */
    Map<String, Object> toConfigMap(long dataFingerprint) {
        Map<String, Object> map = new LinkedHashMap<>();
        map.put("model", model.toMap());
        map.put("training", training.toMap());
        map.put("data", data);
        map.put("data_fingerprint", dataFingerprint);
        map.put("device", device);
        map.put("threads", (long) threads);
        map.put("precision", precision);
        return map;
    }

    static MinerOptions fromConfigMap(Map<?, ?> config, long seed) {
        return new MinerOptions(
                ModelConfig.fromMap(StateTrees.map(config, "model")),
                TrainingOptions.fromMap(StateTrees.map(config, "training")),
                StateTrees.as(String.class, config, "data"),
                seed,
                StateTrees.as(String.class, config, "device"),
                StateTrees.intValue(config, "threads"),
                config.containsKey("precision") ? StateTrees.as(String.class, config, "precision") : "auto");
    }
}
