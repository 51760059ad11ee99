package neuron.engine.demo;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One line of the chart, read from a {@code --metrics_csv} file: its points, split into segments where x goes
 * back (a process restarted and resumed from a checkpoint older than where it died).
 */
record Series(String name, List<List<double[]>> segments) {

    /** The first point written. */
    double[] first() {
        return segments.get(0).get(0);
    }

    /** The last point written. */
    double[] last() {
        List<double[]> segment = segments.get(segments.size() - 1);
        return segment.get(segment.size() - 1);
    }

    /**
     * Reads columns {@code x} and {@code y} of a CSV; with {@code keyColumn >= 0}, one series per value of that
     * column (named {@code prefix + value}), else one named {@code prefix}. Rows that do not parse (a row cut by
     * SIGKILL) and values that are not finite (a figure not known yet) are skipped.
     */
    static List<Series> read(Path csv, int x, int y, int keyColumn, String prefix) throws IOException {
        Map<String, List<List<double[]>>> byName = new LinkedHashMap<>();
        if (!Files.exists(csv)) {
            return List.of();
        }
        for (String line : Files.readAllLines(csv)) {
            String[] cells = line.split(",");
            double[] point;
            try {
                point = new double[] {Double.parseDouble(cells[x]), Double.parseDouble(cells[y])};
            } catch (RuntimeException header) {
                continue;
            }
            if (!Double.isFinite(point[0]) || !Double.isFinite(point[1])) {
                continue;
            }
            String name = keyColumn < 0 ? prefix : prefix + cells[keyColumn];
            List<List<double[]>> segments = byName.computeIfAbsent(name, k -> new ArrayList<>());
            if (segments.isEmpty() || point[0] <= new Series(name, segments).last()[0]) {
                segments.add(new ArrayList<>());
            }
            segments.get(segments.size() - 1).add(point);
        }
        List<Series> series = new ArrayList<>();
        byName.forEach((name, segments) -> series.add(new Series(name, segments)));
        return series;
    }
}
