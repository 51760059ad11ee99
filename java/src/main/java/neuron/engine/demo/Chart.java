package neuron.engine.demo;

import javax.imageio.ImageIO;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.Stroke;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * The demo's picture: panels of lines over steps or blocks, with a mark at each checkpoint (a triangle on the
 * x axis, in the line's colour), a red dashed line at each crash and a green line at each restart. Drawn with
 * java.awt alone, headless.
 */
final class Chart {
    private static final int WIDTH = 1200;
    private static final int PANEL_HEIGHT = 420;
    private static final int LEFT = 80;
    private static final int RIGHT = 240;
    private static final int TOP = 40;
    private static final int BOTTOM = 50;
    private static final Color[] PALETTE = {new Color(31, 119, 180), new Color(255, 127, 14), new Color(148, 103, 189),
            new Color(140, 86, 75), new Color(227, 119, 194)};
    private static final Color CRASH = new Color(214, 39, 40);
    private static final Color RESTART = new Color(44, 160, 44);
    private static final Stroke DASHED = new BasicStroke(2f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f,
            new float[] {8f, 5f}, 0f);

    /** A line's checkpoints, by the line's name: the steps or blocks at which a checkpoint was persisted. */
    record Checkpoints(String series, List<Long> at) {
    }

    /** A crash (SIGKILL, where the process had got to) and its restart (where it resumed). */
    record Crash(String who, double killedAt, double resumedAt) {
    }

    record Panel(String title, String xLabel, String yLabel, List<Series> lines, List<Checkpoints> checkpoints,
                 List<Crash> crashes) {
    }

    private Chart() {
    }

    static void write(Path png, List<Panel> panels) throws IOException {
        BufferedImage image = new BufferedImage(WIDTH, PANEL_HEIGHT * panels.size(), BufferedImage.TYPE_INT_RGB);
        Graphics2D g = image.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, image.getWidth(), image.getHeight());
            g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
            for (int i = 0; i < panels.size(); i++) {
                new Frame(g, panels.get(i), i * PANEL_HEIGHT).draw();
            }
        } finally {
            g.dispose();
        }
        ImageIO.write(image, "png", png.toFile());
    }

    /** One panel: its data range mapped onto its plot area. */
    private static final class Frame {
        private final Graphics2D g;
        private final Panel panel;
        private final int top;
        private final int plotWidth = WIDTH - LEFT - RIGHT;
        private final int plotHeight = PANEL_HEIGHT - TOP - BOTTOM;
        private double minX = Double.MAX_VALUE;
        private double maxX = -Double.MAX_VALUE;
        private double minY = Double.MAX_VALUE;
        private double maxY = -Double.MAX_VALUE;

        Frame(Graphics2D g, Panel panel, int top) {
            this.g = g;
            this.panel = panel;
            this.top = top;
            panel.lines().forEach(s -> s.segments().forEach(seg -> seg.forEach(p -> {
                minX = Math.min(minX, p[0]);
                maxX = Math.max(maxX, p[0]);
                minY = Math.min(minY, p[1]);
                maxY = Math.max(maxY, p[1]);
            })));
            if (minX > maxX) {
                minX = 0;
                maxX = 1;
                minY = 0;
                maxY = 1;
            }
            maxX = maxX > minX ? maxX : minX + 1;
            double pad = maxY > minY ? (maxY - minY) * 0.05 : 1;
            minY -= pad;
            maxY += pad;
        }

        void draw() {
            axes();
            for (int i = 0; i < panel.lines().size(); i++) {
                line(panel.lines().get(i), PALETTE[i % PALETTE.length]);
            }
            for (int row = 0; row < panel.checkpoints().size(); row++) {
                Color color = colorOf(panel.checkpoints().get(row).series());
                int lift = row * 11;  // a row of marks per line, so marks at the same step stay visible
                panel.checkpoints().get(row).at().forEach(x -> triangle(px(x), lift, color));
            }
            panel.crashes().forEach(this::crash);
            legend();
        }

        private int px(double x) {
            return LEFT + (int) Math.round((x - minX) / (maxX - minX) * plotWidth);
        }

        private int py(double y) {
            return top + TOP + plotHeight - (int) Math.round((y - minY) / (maxY - minY) * plotHeight);
        }

        private void axes() {
            g.setColor(Color.BLACK);
            g.setFont(g.getFont().deriveFont(Font.BOLD, 14f));
            g.drawString(panel.title(), LEFT, top + TOP - 15);
            g.setFont(g.getFont().deriveFont(Font.PLAIN, 12f));
            g.drawRect(LEFT, top + TOP, plotWidth, plotHeight);
            for (int i = 0; i <= 5; i++) {
                double x = minX + (maxX - minX) * i / 5;
                double y = minY + (maxY - minY) * i / 5;
                g.setColor(new Color(230, 230, 230));
                g.drawLine(px(x), top + TOP + 1, px(x), top + TOP + plotHeight - 1);
                g.drawLine(LEFT + 1, py(y), LEFT + plotWidth - 1, py(y));
                g.setColor(Color.BLACK);
                g.drawString(String.format(Locale.ROOT, "%.0f", x), px(x) - 12, top + TOP + plotHeight + 16);
                g.drawString(String.format(Locale.ROOT, "%.3g", y), 10, py(y) + 4);
            }
            g.drawString(panel.xLabel(), LEFT + plotWidth / 2 - 20, top + TOP + plotHeight + 36);
            g.drawString(panel.yLabel(), 10, top + TOP - 15);
        }

        private void line(Series series, Color color) {
            g.setColor(color);
            g.setStroke(new BasicStroke(1.2f));
            for (List<double[]> segment : series.segments()) {
                for (int i = 1; i < segment.size(); i++) {
                    g.drawLine(px(segment.get(i - 1)[0]), py(segment.get(i - 1)[1]), px(segment.get(i)[0]),
                            py(segment.get(i)[1]));
                }
            }
        }

        private void triangle(int x, int lift, Color color) {
            int base = top + TOP + plotHeight - lift;
            g.setColor(color);
            g.fillPolygon(new int[] {x - 5, x + 5, x}, new int[] {base, base, base - 9}, 3);
        }

        private void crash(Crash crash) {
            // the restart resumes at or before the crash: its label goes left of its line, the crash's right
            vertical(px(crash.killedAt()), CRASH, DASHED, "SIGKILL " + crash.who(), false);
            vertical(px(crash.resumedAt()), RESTART, new BasicStroke(2f), "restart: resumed at "
                    + String.format(Locale.ROOT, "%.0f", crash.resumedAt()), true);
        }

        private void vertical(int x, Color color, Stroke stroke, String label, boolean labelLeft) {
            g.setColor(color);
            g.setStroke(stroke);
            g.drawLine(x, top + TOP, x, top + TOP + plotHeight);
            g.setStroke(new BasicStroke(1f));
            int width = g.getFontMetrics().stringWidth(label);
            g.drawString(label, labelLeft ? x - width - 4 : x + 4, top + TOP + 14);
        }

        private Color colorOf(String series) {
            for (int i = 0; i < panel.lines().size(); i++) {
                if (panel.lines().get(i).name().equals(series)) {
                    return PALETTE[i % PALETTE.length];
                }
            }
            return Color.DARK_GRAY;
        }

        private void legend() {
            int x = LEFT + plotWidth + 20;
            int y = top + TOP + 10;
            for (int i = 0; i < panel.lines().size(); i++, y += 20) {
                g.setColor(PALETTE[i % PALETTE.length]);
                g.fillRect(x, y - 4, 24, 3);
                g.setColor(Color.BLACK);
                g.drawString(panel.lines().get(i).name(), x + 32, y);
            }
            g.setColor(Color.DARK_GRAY);
            g.fillPolygon(new int[] {x + 7, x + 17, x + 12}, new int[] {y + 2, y + 2, y - 7}, 3);
            g.setColor(Color.BLACK);
            g.drawString("checkpoint (line's colour)", x + 32, y);
            y += 20;
            legendLine(x, y, CRASH, DASHED, "crash (SIGKILL)");
            legendLine(x, y + 20, RESTART, new BasicStroke(2f), "restart (resumed at)");
        }

        private void legendLine(int x, int y, Color color, Stroke stroke, String label) {
            g.setColor(color);
            g.setStroke(stroke);
            g.drawLine(x, y - 4, x + 24, y - 4);
            g.setStroke(new BasicStroke(1f));
            g.setColor(Color.BLACK);
            g.drawString(label, x + 32, y);
        }
    }
}
