package uk.co.tradersflow.platform.redis;

/**
 * Every Redis key and channel the server uses is built here, under one prefix, so that test
 * runs (and co-hosted environments) never read each other's counters.
 */
public record RedisKeys(String prefix) {

    public String key(String... parts) {
        return prefix + String.join(":", parts);
    }

    public String channel(String name) {
        return prefix + "chan:" + name;
    }
}
