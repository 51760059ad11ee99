package neuron.engine.backup;

import neuron.engine.checkpoint.UsageException;

import java.net.URI;
import java.util.regex.Pattern;

/**
 * Where backups go: {@code s3://BUCKET/PREFIX} on AWS S3, or on any S3-compatible store at {@code endpoint}
 * (Cloudflare R2, MinIO, s3proxy); null endpoint means AWS.
 */
public record BackupTarget(String bucket, String prefix, URI endpoint) {
    private static final Pattern BUCKET = Pattern.compile("[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]");

    /** Parses {@code --backup s3://BUCKET[/PREFIX]} and {@code --backup_endpoint URL} (may be null). */
    public static BackupTarget parse(String url, String endpoint) {
        if (!url.startsWith("s3://")) {
            throw new UsageException("--backup must look like s3://BUCKET/PREFIX, got " + url);
        }
        String rest = url.substring("s3://".length());
        int slash = rest.indexOf('/');
        String bucket = slash < 0 ? rest : rest.substring(0, slash);
        String prefix = slash < 0 ? "" : rest.substring(slash + 1).replaceAll("/+$", "");
        if (!BUCKET.matcher(bucket).matches()) {
            throw new UsageException("--backup " + url + ": '" + bucket
                    + "' is not a bucket name (3-63 lowercase letters, digits, dots, hyphens)");
        }
        if (prefix.contains("//") || prefix.startsWith("/")) {
            throw new UsageException("--backup " + url + ": the prefix has an empty path segment");
        }
        URI uri = null;
        if (endpoint != null) {
            uri = URI.create(endpoint);
            if (!("http".equals(uri.getScheme()) || "https".equals(uri.getScheme())) || uri.getHost() == null) {
                throw new UsageException("--backup_endpoint must be an http(s)://HOST[:PORT] URL, got "
                        + endpoint);
            }
        }
        return new BackupTarget(bucket, prefix, uri);
    }

    /** The object key of {@code relative} under the prefix. */
    public String key(String relative) {
        return prefix.isEmpty() ? relative : prefix + "/" + relative;
    }

    /** The part of {@code key} after the prefix. */
    public String relative(String key) {
        return prefix.isEmpty() ? key : key.substring(prefix.length() + 1);
    }

    @Override
    public String toString() {
        return "s3://" + bucket + (prefix.isEmpty() ? "" : "/" + prefix)
                + (endpoint == null ? "" : " at " + endpoint);
    }
}
