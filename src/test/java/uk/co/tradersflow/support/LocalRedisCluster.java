package uk.co.tradersflow.support;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A Redis Cluster of three masters (no replicas) of the test's own: {@code redis-server} on three
 * free ports with {@code cluster-enabled yes}, nothing persisted, joined by
 * {@code redis-cli --cluster create}, ready once every node says {@code cluster_state:ok}.
 * {@link OnRedisCluster} runs a test class's servers on one.
 */
public final class LocalRedisCluster implements AutoCloseable {
    public static final int MASTERS = 3;

    private final Path dir;
    private final List<LocalRedis> nodes;

    private LocalRedisCluster(Path dir, List<LocalRedis> nodes) {
        this.dir = dir;
        this.nodes = nodes;
    }

    public static LocalRedisCluster start() {
        Path dir = LocalRedis.tempDir("tf-redis-cluster");
        List<LocalRedis> nodes = new ArrayList<>();
        try {
            for (int i = 0; i < MASTERS; i++) {
                nodes.add(LocalRedis.start(
                        LocalRedis.freePort(),
                        "--cluster-enabled",
                        "yes",
                        "--cluster-config-file",
                        "nodes.conf",
                        "--cluster-node-timeout",
                        "2000"));
            }
            List<String> create = new ArrayList<>(List.of("redis-cli", "--cluster", "create"));
            nodes.forEach(n -> create.add("127.0.0.1:" + n.port));
            create.addAll(List.of("--cluster-replicas", "0", "--cluster-yes"));
            LocalRedis.run(create);
            LocalRedisCluster cluster = new LocalRedisCluster(dir, nodes);
            cluster.awaitReady();
            return cluster;
        } catch (RuntimeException e) {
            nodes.forEach(LocalRedis::close);
            throw e;
        }
    }

    public List<LocalRedis> nodes() {
        return nodes;
    }

    /** The server's settings for this cluster: cluster mode, every node as a seed. */
    public Map<String, String> settings() {
        return Map.of(
                "TF_REDIS_MODE",
                "cluster",
                "TF_REDIS_URL",
                nodes.stream().map(LocalRedis::url).collect(Collectors.joining(",")));
    }

    private void awaitReady() {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (System.nanoTime() < deadline) {
            if (nodes.stream().allMatch(n -> {
                String info = n.cli("cluster", "info");
                return info.contains("cluster_state:ok")
                        && info.contains("cluster_slots_ok:16384")
                        && info.contains("cluster_known_nodes:" + MASTERS);
            })) {
                return;
            }
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
        throw new IllegalStateException("the local Redis Cluster never reached cluster_state:ok: "
                + nodes.get(0).cli("cluster", "info"));
    }

    @Override
    public void close() {
        nodes.forEach(LocalRedis::close);
        LocalRedis.deleteQuietly(dir);
    }

    /**
     * Starts a cluster before the class's servers and ends it after them; every {@link TestServer}
     * started meanwhile (the class's own and any second instance a test starts) uses it unless
     * the test names another Redis itself.
     */
    static final class PerClass implements BeforeAllCallback, AfterAllCallback {
        private static final ExtensionContext.Namespace NS = ExtensionContext.Namespace.create(PerClass.class);

        @Override
        public void beforeAll(ExtensionContext context) {
            LocalRedisCluster cluster = start();
            context.getStore(NS).put("cluster", cluster);
            TestServer.useRedis(cluster.settings());
        }

        @Override
        public void afterAll(ExtensionContext context) {
            TestServer.useRedis(null);
            LocalRedisCluster cluster = context.getStore(NS).remove("cluster", LocalRedisCluster.class);
            if (cluster != null) {
                cluster.close();
            }
        }
    }
}
