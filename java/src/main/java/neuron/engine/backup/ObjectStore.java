package neuron.engine.backup;

import neuron.engine.checkpoint.UnusablePathException;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.core.ResponseInputStream;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.regions.providers.AwsProfileRegionProvider;
import software.amazon.awssdk.regions.providers.AwsRegionProviderChain;
import software.amazon.awssdk.regions.providers.SystemSettingsRegionProvider;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.CompletedPart;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.NoSuchBucketException;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;
import software.amazon.awssdk.services.s3.model.S3Exception;
import software.amazon.awssdk.services.s3.model.S3Object;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;

/**
 * The S3 calls backups need, against one bucket and prefix. Files go up in parts read once from the file into
 * one part-sized buffer (never the whole file in the heap): one PUT up to a part, a multipart upload above, each
 * request carrying the MD5 of its bytes, which the store checks before it accepts them; the SHA-256 of the whole
 * file is computed on the way for the manifest. Keys given and returned are relative to the prefix.
 */
final class ObjectStore implements AutoCloseable {
    /** S3's smallest part is 5 MiB and a multipart upload has at most 10,000 parts. */
    static final int PART_BYTES = 8 << 20;
    private static final int MAX_PARTS = 10_000;

    private final S3Client s3;
    private final BackupTarget target;
    private final int pageSize;
    private byte[] part;

    private ObjectStore(S3Client s3, BackupTarget target, int pageSize) {
        this.s3 = s3;
        this.target = target;
        this.pageSize = pageSize;
    }

    /**
     * A client for {@code target}, with credentials from the standard AWS chain (environment, system properties,
     * profile, container or instance role): never from a flag, never logged.
     */
    static ObjectStore connect(BackupTarget target) throws UnusablePathException {
        return connect(target, 1000);
    }

    /** As {@link #connect(BackupTarget)}, listing {@code pageSize} keys per request. */
    static ObjectStore connect(BackupTarget target, int pageSize) throws UnusablePathException {
        AwsCredentialsProvider credentials = DefaultCredentialsProvider.builder().build();
        try {
            credentials.resolveCredentials();
        } catch (SdkClientException e) {
            throw new UnusablePathException("backup " + target + ": no credentials; set AWS_ACCESS_KEY_ID and "
                    + "AWS_SECRET_ACCESS_KEY (or AWS_PROFILE)");
        }
        var builder = S3Client.builder()
                .httpClient(UrlConnectionHttpClient.builder().connectionTimeout(Duration.ofSeconds(5))
                        .socketTimeout(Duration.ofSeconds(60)).build())
                .credentialsProvider(credentials)
                .region(region(target))
                // S3-compatible stores (R2, MinIO) are addressed by path; every one of them checks Content-MD5,
                // not all of them the newer checksum headers
                .forcePathStyle(target.endpoint() != null)
                .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
                .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED);
        if (target.endpoint() != null) {
            builder.endpointOverride(target.endpoint());
        }
        return new ObjectStore(builder.build(), target, pageSize);
    }

    /** AWS_REGION, aws.region or the profile's region; never the instance metadata service. */
    private static Region region(BackupTarget target) throws UnusablePathException {
        try {
            return new AwsRegionProviderChain(new SystemSettingsRegionProvider(), new AwsProfileRegionProvider())
                    .getRegion();
        } catch (SdkClientException none) {
            if (target.endpoint() != null) {
                return Region.of("auto");   // what R2 asks for; other S3-compatible stores accept any
            }
            throw new UnusablePathException("backup " + target + ": no AWS region; set AWS_REGION");
        }
    }

    BackupTarget target() {
        return target;
    }

    /**
     * One authenticated request: a refused one (wrong key or secret, no such bucket, no permission) is the
     * operator's to fix, an {@link UnusablePathException}; an unreachable store is an {@link IOException}.
     */
    void checkAccess() throws IOException {
        try {
            s3.listObjectsV2(r -> r.bucket(target.bucket()).prefix(target.key("")).maxKeys(1));
        } catch (NoSuchBucketException e) {
            throw new UnusablePathException("backup " + target + ": the bucket does not exist");
        } catch (S3Exception e) {
            if (e.statusCode() == 403 || e.statusCode() == 401) {
                String code = e.awsErrorDetails() == null ? "" : e.awsErrorDetails().errorCode();
                throw new UnusablePathException("backup " + target + ": access denied (" + code + "); check "
                        + "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or the profile) and the bucket's permissions");
            }
            throw new IOException("backup " + target + ": " + oneLine(e), e);
        } catch (SdkException e) {
            throw new IOException("backup " + target + " unreachable: " + oneLine(e), e);
        }
    }

    /** The objects whose keys start with {@code prefix}, in key order, every page of the listing. */
    List<S3Object> list(String prefix) throws IOException {
        try {
            List<S3Object> out = new ArrayList<>();
            s3.listObjectsV2Paginator(r -> r.bucket(target.bucket()).prefix(target.key(prefix)).maxKeys(pageSize))
                    .contents().forEach(out::add);
            return out;
        } catch (SdkException e) {
            throw failure("list " + prefix, e);
        }
    }

    /** Uploads the first {@code length} bytes of {@code file} to {@code key}; returns their SHA-256 (hex). */
    String upload(String key, FileChannel file, long length) throws IOException {
        MessageDigest sha = digest("SHA-256");
        String full = target.key(key);
        long partBytes = Math.max(PART_BYTES, ceilMiB((length + MAX_PARTS - 1) / MAX_PARTS));
        try {
            if (length <= partBytes) {
                int n = read(file, 0, (int) length, sha);
                s3.putObject(r -> r.bucket(target.bucket()).key(full).contentLength((long) n).contentMD5(md5(n)),
                        body(n));
                return HexFormat.of().formatHex(sha.digest());
            }
            String id = s3.createMultipartUpload(r -> r.bucket(target.bucket()).key(full)).uploadId();
            try {
                List<CompletedPart> parts = new ArrayList<>();
                for (long offset = 0; offset < length; offset += partBytes) {
                    int n = read(file, offset, (int) Math.min(partBytes, length - offset), sha);
                    int number = parts.size() + 1;
                    String etag = s3.uploadPart(r -> r.bucket(target.bucket()).key(full).uploadId(id)
                            .partNumber(number).contentLength((long) n).contentMD5(md5(n)), body(n)).eTag();
                    parts.add(CompletedPart.builder().partNumber(number).eTag(etag).build());
                }
                s3.completeMultipartUpload(r -> r.bucket(target.bucket()).key(full).uploadId(id)
                        .multipartUpload(m -> m.parts(parts)));
            } catch (IOException | RuntimeException e) {
                abortQuietly(full, id);
                throw e;
            }
            return HexFormat.of().formatHex(sha.digest());
        } catch (SdkException e) {
            throw failure("upload " + key, e);
        }
    }

    /** Writes a small object (a manifest, the latest pointer) in one PUT. */
    void put(String key, byte[] bytes) throws IOException {
        try {
            String md5 = Base64.getEncoder().encodeToString(digest("MD5").digest(bytes));
            s3.putObject(r -> r.bucket(target.bucket()).key(target.key(key)).contentMD5(md5), RequestBody.fromBytes(bytes));
        } catch (SdkException e) {
            throw failure("put " + key, e);
        }
    }

    /** A small object, empty if there is none; more than {@code maxBytes} is refused as damaged. */
    Optional<byte[]> get(String key, int maxBytes) throws IOException {
        try (ResponseInputStream<GetObjectResponse> in = s3.getObject(r -> r.bucket(target.bucket()).key(target.key(key)))) {
            byte[] bytes = in.readNBytes(maxBytes + 1);
            if (bytes.length > maxBytes) {
                throw new DamagedObjectException(key + " is larger than " + maxBytes + " bytes");
            }
            return Optional.of(bytes);
        } catch (NoSuchKeyException e) {
            return Optional.empty();
        } catch (SdkException e) {
            throw failure("get " + key, e);
        }
    }

    /**
     * Downloads {@code key} into {@code file} (created or truncated), reading at most {@code length} bytes, and
     * returns their SHA-256 (hex); an object of another length is damaged.
     */
    String download(String key, Path file, long length) throws IOException {
        MessageDigest sha = digest("SHA-256");
        try (ResponseInputStream<GetObjectResponse> in = s3.getObject(r -> r.bucket(target.bucket()).key(target.key(key)));
             FileChannel out = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                     StandardOpenOption.TRUNCATE_EXISTING)) {
            byte[] buffer = new byte[1 << 20];
            long total = 0;
            for (int n; (n = in.read(buffer, 0, (int) Math.min(buffer.length, length + 1 - total))) > 0; ) {
                total += n;
                if (total > length) {
                    in.abort();
                    throw new DamagedObjectException(key + " is longer than the " + length + " bytes recorded");
                }
                sha.update(buffer, 0, n);
                out.write(ByteBuffer.wrap(buffer, 0, n));
            }
            if (total < length) {
                throw new DamagedObjectException(key + " has " + total + " bytes, " + length + " recorded");
            }
            out.force(true);
            return HexFormat.of().formatHex(sha.digest());
        } catch (NoSuchKeyException e) {
            throw new DamagedObjectException(key + " is missing");
        } catch (SdkException e) {
            throw failure("download " + key, e);
        }
    }

    void delete(String key) throws IOException {
        try {
            s3.deleteObject(r -> r.bucket(target.bucket()).key(target.key(key)));
        } catch (SdkException e) {
            throw failure("delete " + key, e);
        }
    }

    /** The key relative to the prefix. */
    String relative(S3Object object) {
        return target.relative(object.key());
    }

    @Override
    public void close() {
        s3.close();
    }

    private int read(FileChannel file, long offset, int n, MessageDigest sha) throws IOException {
        if (part == null || part.length < n) {
            part = new byte[Math.max(n, PART_BYTES)];
        }
        ByteBuffer buffer = ByteBuffer.wrap(part, 0, n);
        while (buffer.hasRemaining()) {
            if (file.read(buffer, offset + buffer.position()) < 0) {
                throw new IOException("the file ended " + (n - buffer.remaining()) + " bytes into a part at " + offset);
            }
        }
        sha.update(part, 0, n);
        return n;
    }

    private String md5(int n) {
        MessageDigest md5 = digest("MD5");
        md5.update(part, 0, n);
        return Base64.getEncoder().encodeToString(md5.digest());
    }

    /** The part buffer as a body the SDK may read more than once (signing, retries), without a copy. */
    private RequestBody body(int n) {
        byte[] bytes = part;
        return RequestBody.fromContentProvider(() -> new ByteArrayInputStream(bytes, 0, n), n,
                "application/octet-stream");
    }

    private void abortQuietly(String key, String id) {
        try {
            s3.abortMultipartUpload(r -> r.bucket(target.bucket()).key(key).uploadId(id));
        } catch (SdkException ignored) {
            // the store is unreachable: its lifecycle rules or the next sweep remove the parts
        }
    }

    private IOException failure(String what, SdkException e) {
        return new IOException(what + ": " + oneLine(e), e);
    }

    /** The SDK's message without the request ids: one line an operator can read. */
    static String oneLine(Throwable e) {
        String msg = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        return msg.replaceAll(",? ?Request ID: [^,)]*", "").replace('\n', ' ');
    }

    private static long ceilMiB(long bytes) {
        return (bytes + (1 << 20) - 1) & ~((1L << 20) - 1);
    }

    static MessageDigest digest(String algorithm) {
        try {
            return MessageDigest.getInstance(algorithm);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** An object whose bytes do not match what was recorded: treated like a damaged local file. */
    static final class DamagedObjectException extends IOException {
        DamagedObjectException(String message) {
            super(message);
        }
    }
}
