package uk.co.tradersflow.support;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A Redis master with one replica, watched by one Sentinel (quorum 1, down after 1 s), all of the
 * test's own on free ports: enough to sign in through Sentinel and to fail the master over.
 */
public final class LocalRedisSentinel implements AutoCloseable {
    public static final String MASTER_NAME = "tf-test-master";

    public final LocalRedis master;
    public final LocalRedis replica;
    public final LocalRedis sentinel;

    private LocalRedisSentinel(LocalRedis master, LocalRedis replica, LocalRedis sentinel) {
        this.master = master;
        this.replica = replica;
        this.sentinel = sentinel;
    }

    public static LocalRedisSentinel start() {
        LocalRedis master = LocalRedis.start();
        LocalRedis replica = null;
        try {
            replica = LocalRedis.start("--replicaof", "127.0.0.1", Integer.toString(master.port));
            int port = LocalRedis.freePort();
            Path dir = LocalRedis.tempDir("tf-redis-sentinel-" + port);
            Path conf = dir.resolve("sentinel.conf");
            Files.writeString(
                    conf,
                    String.join(
                            "\n",
                            "port " + port,
                            "bind 127.0.0.1",
                            "dir " + dir,
                            "logfile " + dir.resolve("sentinel.log"),
                            "sentinel monitor " + MASTER_NAME + " 127.0.0.1 " + master.port + " 1",
                            "sentinel down-after-milliseconds " + MASTER_NAME + " 1000",
                            "sentinel failover-timeout " + MASTER_NAME + " 10000",
                            ""));
            LocalRedis sentinel = LocalRedis.started(port, dir, List.of(conf.toString(), "--sentinel"));
            LocalRedisSentinel all = new LocalRedisSentinel(master, replica, sentinel);
            all.awaitReplicaKnown();
            return all;
        } catch (IOException | RuntimeException e) {
            master.close();
            if (replica != null) {
                replica.close();
            }
            throw new IllegalStateException("cannot start the local Sentinel set-up", e);
        }
    }

    /** The server's settings: sentinel mode, this sentinel, the master's name. */
    public Map<String, String> settings() {
        return Map.of("TF_REDIS_MODE", "sentinel", "TF_REDIS_URL", sentinel.url(), "TF_REDIS_MASTER_NAME", MASTER_NAME);
    }

    /** The port the sentinel names as the master's now. */
    public int masterPort() {
        String[] lines = sentinel.cli("sentinel", "get-master-addr-by-name", MASTER_NAME)
                .trim()
                .split("\\s+");
        return Integer.parseInt(lines[lines.length - 1]);
    }

    /** Until the sentinel knows the replica (it learns of it from the master), so a failover has a candidate. */
    private void awaitReplicaKnown() {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline) {
            String replicas = sentinel.cli("sentinel", "replicas", MASTER_NAME);
            String link = replica.cli("info", "replication");
            if (replicas.contains(Integer.toString(replica.port)) && link.contains("master_link_status:up")) {
                return;
            }
            sleep(200);
        }
        throw new IllegalStateException("the sentinel never saw the replica");
    }

    /** Until the sentinel names {@code port} as the master (a failover is done), at most {@code seconds}. */
    public void awaitMasterOn(int port, int seconds) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (System.nanoTime() < deadline) {
            if (masterPort() == port) {
                return;
            }
            sleep(200);
        }
        throw new IllegalStateException("no failover to " + port + " within " + seconds + " s");
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        sentinel.close();
        replica.close();
        master.close();
    }
}
