package neuron.engine.nativeio;

/** Loads the engine's own native library once and checks that its ABI matches this build. */
public final class NativeLibrary {
    private static volatile boolean checked;

    private NativeLibrary() {
    }

    /** Returns the native ABI version after checking it; throws if the library is missing or stale. */
    public static int ensureLoaded() {
        int abi = NativeIO.nn_abi_version();
        if (abi != NativeIO.EXPECTED_ABI) {
            throw new IllegalStateException("native library ABI " + abi + " does not match the Java side's "
                    + NativeIO.EXPECTED_ABI + ": rebuild with mvn package");
        }
        checked = true;
        return abi;
    }

    public static boolean isChecked() {
        return checked;
    }
}
