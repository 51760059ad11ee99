package neuron.engine.miner;

import java.util.LinkedHashMap;
import java.util.Map;
import neuron.engine.model.BuiltinCorpus;
import neuron.engine.model.Devices;
import neuron.engine.model.ModelConfig;
import neuron.engine.model.StateTrees;

/**
 * Everything that fixes a miner's run: model shape, training settings, data source ({@code TokenData#source()}
 * spelling), seed, device choice and LibTorch's intra-op thread count (results are bit-reproducible only for
 * the same thread count, so it is part of the run).
 */
public record MinerOptions(ModelConfig model, TrainingOptions training, String data, long seed, String device,
                           int threads) {

    public MinerOptions {
        if (threads <= 0) {
            throw new IllegalArgumentException("threads must be positive, got " + threads);
        }
        if (!Devices.CHOICES.contains(device)) {
            throw new IllegalArgumentException("unknown device '" + device + "'; one of " + Devices.CHOICES);
        }
    }

    /** A preset on the built-in corpus with default training settings, seed 0, CPU, all cores. */
    public static MinerOptions preset(String preset) {
        return new MinerOptions(ModelConfig.preset(preset), TrainingOptions.defaults(), BuiltinCorpus.SOURCE, 0,
                "auto", Runtime.getRuntime().availableProcessors());
    }

    public MinerOptions withData(String newData) {
        return new MinerOptions(model, training, newData, seed, device, threads);
    }

    public MinerOptions withModel(ModelConfig newModel) {
        return new MinerOptions(newModel, training, data, seed, device, threads);
    }

    public MinerOptions withTraining(TrainingOptions newTraining) {
        return new MinerOptions(model, newTraining, data, seed, device, threads);
    }

    public MinerOptions withSeed(long newSeed) {
        return new MinerOptions(model, training, data, newSeed, device, threads);
    }

    public MinerOptions withDevice(String newDevice) {
        return new MinerOptions(model, training, data, seed, newDevice, threads);
    }

    public MinerOptions withThreads(int newThreads) {
        return new MinerOptions(model, training, data, seed, device, newThreads);
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
        return map;
    }

    static MinerOptions fromConfigMap(Map<?, ?> config, long seed) {
        return new MinerOptions(
                ModelConfig.fromMap(StateTrees.map(config, "model")),
                TrainingOptions.fromMap(StateTrees.map(config, "training")),
                StateTrees.as(String.class, config, "data"),
                seed,
                StateTrees.as(String.class, config, "device"),
                StateTrees.intValue(config, "threads"));
    }
}
