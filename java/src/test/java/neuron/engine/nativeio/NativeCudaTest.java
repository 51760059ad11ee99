package neuron.engine.nativeio;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The CUDA staging functions answer with codes in every build: -ENOSYS without CUDA, the CUDA error without a device. */
class NativeCudaTest {
    /** Whether this build compiled the CUDA staging functions (the gpu profile sets it). */
    private static final boolean BUILT = "ON".equals(System.getProperty("neuron.cuda"));

    @Test
    void answersWithCodesNotCrashes() {
        long[] stager = {1};
        int created = NativeCuda.nn_cuda_stager_create(stager);
        int available = NativeCuda.nn_cuda_available();
        if (!BUILT) {
            assertEquals(NativeCuda.NOT_BUILT, available);
            assertEquals(NativeCuda.NOT_BUILT, created);
            assertEquals(NativeCuda.NOT_BUILT, NativeCuda.nn_cuda_host_register(1, 1));
            assertEquals("Function not implemented", NativeMemory.describe(available));
        } else {
            assertNotEquals(NativeCuda.NOT_BUILT, available);
            if (available == 1) {
                assertEquals(0, created, NativeMemory.describe(created));
                NativeCuda.nn_cuda_stager_destroy(stager[0]);
                return;
            }
            assertTrue(created < 0);
            assertTrue(NativeMemory.describe(created).contains("CUDA error"), NativeMemory.describe(created));
        }
        assertEquals(0, stager[0], "no stager handed out");
        NativeCuda.nn_cuda_stager_destroy(0);
        assertTrue(NativeCuda.nn_cuda_stager_begin(0, 0) < 0);
    }

    @Test
    void describesCudaCodes() {
        String text = NativeMemory.describe(-(NativeCuda.CUDA_ERROR_BASE + 2));
        assertTrue(text.contains("CUDA error 2"), text);
    }
}
