package neuron.engine.network;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class WindowScheduleTest {

    @Test
    void windowsOfTenBlocks() {
        WindowSchedule schedule = WindowSchedule.of(10);
        assertEquals(0, schedule.windowOf(9));
        assertEquals(1, schedule.windowOf(10));
        assertEquals(30, schedule.firstBlock(3));
        assertEquals(37, schedule.submitBlock(3), "(w+1)·B − 1 − max(2, B/5)");
        assertEquals(38, schedule.lastSubmitBlock(3));
        assertEquals(41, schedule.evaluationBlock(3), "(w+1)·B + grace");
    }

    @Test
    void aLongWindowSubmitsAFifthBeforeItsEnd() {
        WindowSchedule schedule = new WindowSchedule(100, 3);
        assertEquals(100 - 1 - 20, schedule.submitBlock(0));
        assertEquals(103, schedule.evaluationBlock(0));
    }

    @Test
    void everyWindowLeavesTimeToSubmitAndBeIncluded() {
        for (int b = WindowSchedule.MIN_BLOCKS_PER_WINDOW; b <= 64; b++) {
            WindowSchedule schedule = WindowSchedule.of(b);
            for (long w = 0; w < 3; w++) {
                assertTrue(schedule.firstBlock(w) <= schedule.submitBlock(w), "B=" + b + " w=" + w);
                assertTrue(schedule.submitBlock(w) <= schedule.lastSubmitBlock(w), "B=" + b + " w=" + w);
                assertEquals(w, schedule.windowOf(schedule.lastSubmitBlock(w) + 1), "B=" + b + " w=" + w);
                assertEquals(w + 1, schedule.windowOf(schedule.evaluationBlock(w)), "B=" + b + " w=" + w);
            }
        }
    }

    @Test
    void aWindowTooShortIsRefusedWithItsReason() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> WindowSchedule.of(4));
        assertTrue(e.getMessage().contains("--blocks_per_window must be at least 5"), e.getMessage());
    }
}
