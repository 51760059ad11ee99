package neuron.engine.pth;

/** One stored record of the archive: its name without the prefix, where its data starts, its size and CRC-32. */
record ZipRecord(String name, long dataOffset, long size, int crc) {
}
