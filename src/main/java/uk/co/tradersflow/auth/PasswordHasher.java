package uk.co.tradersflow.auth;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.bouncycastle.crypto.generators.Argon2BytesGenerator;
import org.bouncycastle.crypto.generators.Argon2BytesGenerator.Block;
import org.bouncycastle.crypto.generators.Argon2BytesGenerator.BlockPool;
import org.bouncycastle.crypto.generators.Argon2BytesGenerator.FixedBlockPool;
import org.bouncycastle.crypto.params.Argon2Parameters;

/**
 * Argon2id password hashing in PHC string form ({@code $argon2id$v=19$m=…,t=…,p=…$salt$hash}),
 * so each hash carries its own parameters and can be upgraded on the next sign-in
 * ({@link #needsRehash}). Parameters are OWASP's first recommendation: 19 MiB, 2 passes, 1 lane.
 *
 * <p>Hashing is deliberately slow, so it runs only on a bounded worker pool of its own
 * ({@code tf-password-hashing}): a flood of sign-ins queues there instead of starving the event
 * loops or the shared worker pool.
 *
 * <p>Argon2's memory (19 MiB of 1 KiB blocks a hash) is allocated once for the process, one set
 * per core, when the first hasher is made at start-up, and lent to each hash: Bouncy Castle
 * otherwise allocates it afresh every time, which at 45 sign-ins a second was 0.85 GB/s of garbage
 * and young collections copying the blocks of the hashes in progress (37 ms of CPU a sign-in
 * against 24-27 ms a raw hash). Allocated at start-up rather than on a thread's first hash, so the
 * heap a running server holds is the heap it started with; once per process rather than per
 * hasher, because more hashes at once than cores only wait for each other, and several servers in
 * one JVM (the tests) would otherwise each hold their own. Bouncy Castle zeroes each block as it
 * returns it.
 */
public final class PasswordHasher {
    static final int MEMORY_KIB = 19 * 1024;
    static final int ITERATIONS = 2;
    static final int PARALLELISM = 1;
    private static final int SALT_BYTES = 16;
    private static final int HASH_BYTES = 32;
    private static final Base64.Encoder B64 = Base64.getEncoder().withoutPadding();
    private static final Base64.Decoder B64D = Base64.getDecoder();

    /** The process's Argon2 memory: one set of blocks per core (see the class comment). */
    private static final BlockingQueue<BlockPool> MEMORY =
            filledSets(Runtime.getRuntime().availableProcessors());

    private final WorkerExecutor pool;

    private final SecureRandom random = new SecureRandom();
    /** A real hash of nothing anyone knows: unknown emails are checked against it, so they cost the same. */
    private final String dummy;

    /** A hasher on {@code threads} hashing threads of its own: no more than the cores, as the memory is. */
    public PasswordHasher(Vertx vertx, int threads) {
        this.pool = vertx.createSharedWorkerExecutor("tf-password-hashing", threads, 30, TimeUnit.SECONDS);
        this.dummy = hashNow("not a real password " + random.nextLong());
    }

    private static BlockingQueue<BlockPool> filledSets(int sets) {
        int blocks = Argon2BytesGenerator.getBlockCount(MEMORY_KIB, PARALLELISM);
        BlockingQueue<BlockPool> filled = new ArrayBlockingQueue<>(sets);
        for (int i = 0; i < sets; i++) {
            FixedBlockPool set = new FixedBlockPool(blocks);
            for (int b = 0; b < blocks; b++) {
                set.deallocate(new Block());
            }
            filled.add(set);
        }
        return filled;
    }

    public Future<String> hash(String password) {
        return pool.executeBlocking(() -> hashNow(password), false);
    }

    /** Verifies against the stored hash, or against a dummy when there is none, in the same time. */
    public Future<Boolean> verify(String password, java.util.Optional<String> stored) {
        return pool.executeBlocking(() -> verifyNow(password, stored.orElse(dummy)) && stored.isPresent(), false);
    }

    public boolean needsRehash(String stored) {
        return !stored.startsWith("$argon2id$v=19$m=" + MEMORY_KIB + ",t=" + ITERATIONS + ",p=" + PARALLELISM + "$");
    }

    String hashNow(String password) {
        byte[] salt = new byte[SALT_BYTES];
        random.nextBytes(salt);
        byte[] hash =
                withMemory(blocks -> argon2(password, salt, MEMORY_KIB, ITERATIONS, PARALLELISM, HASH_BYTES, blocks));
        return "$argon2id$v=19$m=" + MEMORY_KIB + ",t=" + ITERATIONS + ",p=" + PARALLELISM + "$"
                + B64.encodeToString(salt) + "$" + B64.encodeToString(hash);
    }

    boolean verifyNow(String password, String phc) {
        return withMemory(blocks -> verifyNow(password, phc, blocks));
    }

    /**
     * Runs {@code hash} on a set of blocks from {@link #MEMORY}. There are as many sets as cores, so
     * one is free for every hashing thread of a server; a hash beyond them (several servers in one
     * JVM hashing at once) gets null, which makes Bouncy Castle allocate for that hash alone.
     */
    private static <T> T withMemory(Function<BlockPool, T> hash) {
        BlockPool blocks = MEMORY.poll();
        try {
            return hash.apply(blocks);
        } finally {
            if (blocks != null) {
                MEMORY.add(blocks);
            }
        }
    }

    /** {@code blocks}: where Argon2's memory comes from and goes back to; null allocates it for this hash alone. */
    static boolean verifyNow(String password, String phc, BlockPool blocks) {
        String[] parts = phc.split("\\$");
        // ["", "argon2id", "v=19", "m=…,t=…,p=…", salt, hash]
        if (parts.length != 6 || !"argon2id".equals(parts[1]) || !"v=19".equals(parts[2])) {
            return false;
        }
        int m = 0;
        int t = 0;
        int p = 0;
        for (String kv : parts[3].split(",")) {
            String[] pair = kv.split("=", 2);
            int value = Integer.parseInt(pair[1]);
            switch (pair[0]) {
                case "m" -> m = value;
                case "t" -> t = value;
                case "p" -> p = value;
                default -> {
                    return false;
                }
            }
        }
        byte[] salt = B64D.decode(parts[4]);
        byte[] expected = B64D.decode(parts[5]);
        return MessageDigest.isEqual(expected, argon2(password, salt, m, t, p, expected.length, blocks));
    }

    private static byte[] argon2(
            String password,
            byte[] salt,
            int memoryKib,
            int iterations,
            int parallelism,
            int length,
            BlockPool blocks) {
        Argon2BytesGenerator generator = new Argon2BytesGenerator();
        generator.init(new Argon2Parameters.Builder(Argon2Parameters.ARGON2_id)
                .withVersion(Argon2Parameters.ARGON2_VERSION_13)
                .withMemoryAsKB(memoryKib)
                .withIterations(iterations)
                .withParallelism(parallelism)
                .withSalt(salt)
                .withBlockPool(blocks)
                .build());
        byte[] out = new byte[length];
        generator.generateBytes(password.getBytes(StandardCharsets.UTF_8), out);
        return out;
    }
}
