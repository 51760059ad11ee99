package neuron.engine.extrinsic;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** Substrate's own examples for {@code generic::Era} (sp-runtime's era tests). */
class EraTest {
    @Test
    void periodsRoundUpToPowersOfTwoAndPhasesAreTheBlockModuloThePeriod() {
        assertEquals(new Era(64, 42), Era.mortal(64, 42));
        assertEquals(new Era(32768, 20000), Era.mortal(32768, 20000));
        assertEquals(new Era(256, 1), Era.mortal(200, 513));
        assertEquals(new Era(4, 1), Era.mortal(2, 1));
        assertEquals(new Era(4, 1), Era.mortal(4, 5));
        assertEquals(new Era(65536, 1000001 % 65536 / 16 * 16), Era.mortal(1000000, 1000001));
        assertEquals(65536, Era.mortal(Long.MAX_VALUE, 0).period());
    }

    @Test
    void encodesAsSubstrateDoes() {
        assertArrayEquals(new byte[] {0}, Era.IMMORTAL.encode());
        assertArrayEquals(new byte[] {(byte) (5 + 42 % 16 * 16), 42 / 16}, Era.mortal(64, 42).encode());
        assertArrayEquals(new byte[] {(byte) (14 + 2500 % 16 * 16), (byte) (2500 / 16)},
                Era.mortal(32768, 20000).encode());
    }

    @Test
    void birthAndDeathFollowTheCurrentBlock() {
        Era era = Era.mortal(4, 6);
        for (long current = 6; current < 10; current++) {
            assertEquals(6, era.birth(current));
            assertEquals(10, era.death(current));
        }
        assertEquals(10, era.birth(10));
        assertEquals(0, Era.IMMORTAL.birth(1234));
    }
}
