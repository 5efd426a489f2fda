package uk.co.tradersflow.platform.redis;

/**
 * Every Redis key and channel the server uses is built here, under one prefix, so that test
 * runs (and co-hosted environments) never read each other's counters.
 *
 * <p>Keys that one script touches together must live in one hash slot on a Redis Cluster: they
 * are built with {@link #tagged}, which wraps their shared part in a hash tag ({@code {…}}) when
 * {@code hashTags} is on (cluster mode). On a single Redis (standalone, sentinel) there are no
 * slots, and the keys keep the names earlier releases wrote, so a lockout under way survives a
 * deploy.
 */
public record RedisKeys(String prefix, boolean hashTags) {

    /** Keys for a single Redis (standalone or sentinel): no hash tags. */
    public RedisKeys(String prefix) {
        this(prefix, false);
    }

    public String key(String... parts) {
        return prefix + String.join(":", parts);
    }

    /**
     * {@code prefix + parts + ":" + tag}, with the tag as a hash tag on a cluster: every key built
     * with the same tag is in the same slot, whatever the parts, so one script may use them all.
     * (Redis hashes the text between the first {@code {} and the next {@code }}; the prefix has no
     * braces on a cluster and the parts are constants, so that is the tag's start, and the tag's
     * own text decides where it ends, the same way for every key of the tag.)
     */
    public String tagged(String tag, String... parts) {
        return key(parts) + ":" + (hashTags ? "{" + tag + "}" : tag);
    }

    public String channel(String name) {
        return prefix + "chan:" + name;
    }
}
