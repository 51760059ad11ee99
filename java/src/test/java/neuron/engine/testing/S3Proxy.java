package neuron.engine.testing;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A real S3 server for tests: s3proxy (SigV4, filesystem backend) as a child JVM on loopback, from the jar Maven
 * resolves as a test dependency ({@code -Dneuron.s3proxy.jar}, set by surefire). Buckets are folders of its data
 * directory and objects files in them, so a test can damage an object in place.
 */
public final class S3Proxy implements AutoCloseable {
    public static final String ACCESS_KEY = "neuron-test-access";
    public static final String SECRET_KEY = "neuron-test-secret";
    private static final Pattern BOUND = Pattern.compile("ServerConnector@\\S+\\{[^}]*\\}\\{127\\.0\\.0\\.1:(\\d+)\\}");

    private final Path dir;
    private final Path jar;
    private Process process;
    private int port;

    private S3Proxy(Path dir, Path jar) {
        this.dir = dir;
        this.jar = jar;
    }

    /** Starts a server whose data lie in {@code dir}/data, with {@code bucket} created; skips if there is no jar. */
    public static S3Proxy start(Path dir, String bucket) throws IOException, InterruptedException {
        String jar = System.getProperty("neuron.s3proxy.jar", "");
        Required.tool(!jar.isEmpty() && Files.isRegularFile(Path.of(jar)),
                "s3proxy (org.gaul:s3proxy jar-with-dependencies, a Maven test dependency) not found: '" + jar + "'");
        S3Proxy proxy = new S3Proxy(dir, Path.of(jar));
        Files.createDirectories(dir.resolve("data").resolve(bucket));
        proxy.launch(0);
        return proxy;
    }

    /** The credentials the server accepts, as the AWS environment variables. */
    public static Map<String, String> credentials(String secret) {
        return Map.of("AWS_ACCESS_KEY_ID", ACCESS_KEY, "AWS_SECRET_ACCESS_KEY", secret);
    }

    /**
     * Gives this JVM the server's access key and {@code secret} through the AWS system properties (which the SDK
     * reads on every request); null takes them away.
     */
    public static void useCredentials(String secret) {
        if (secret == null) {
            System.clearProperty("aws.accessKeyId");
            System.clearProperty("aws.secretAccessKey");
        } else {
            System.setProperty("aws.accessKeyId", ACCESS_KEY);
            System.setProperty("aws.secretAccessKey", secret);
        }
    }

    public URI endpoint() {
        return URI.create("http://127.0.0.1:" + port);
    }

    /** The file holding {@code key} of {@code bucket}. */
    public Path object(String bucket, String key) {
        return dir.resolve("data").resolve(bucket).resolve(key);
    }

    /** SIGKILL: the store is gone until {@link #restart()}. */
    public void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(30, TimeUnit.SECONDS);
    }

    /** Starts it again on the same port, with the same data. */
    public void restart() throws IOException, InterruptedException {
        launch(port);
    }

    private void launch(int onPort) throws IOException, InterruptedException {
        Path conf = dir.resolve("s3proxy.conf");
        Files.writeString(conf, String.join("\n",
                "s3proxy.endpoint=http://127.0.0.1:" + onPort,
                "s3proxy.authorization=aws-v2-or-v4",
                "s3proxy.identity=" + ACCESS_KEY,
                "s3proxy.credential=" + SECRET_KEY,
                "jclouds.provider=filesystem",
                "jclouds.filesystem.basedir=" + dir.resolve("data")) + "\n");
        Path log = dir.resolve("s3proxy.log");
        Files.deleteIfExists(log);
        List<String> cmd = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m", "-XX:TieredStopAtLevel=1", "-jar", jar.toString(), "--properties", conf.toString());
        process = ChildJvm.start(cmd, dir.toFile(), log.toFile());
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        while (System.nanoTime() < deadline && process.isAlive()) {
            Matcher m = BOUND.matcher(Files.readString(log));
            if (m.find()) {
                port = Integer.parseInt(m.group(1));
                return;
            }
            Thread.sleep(50);
        }
        process.destroyForcibly();
        throw new IOException("s3proxy did not start:\n" + Files.readString(log));
    }

    @Override
    public void close() throws InterruptedException {
        if (process != null) {
            kill();
        }
    }
}
