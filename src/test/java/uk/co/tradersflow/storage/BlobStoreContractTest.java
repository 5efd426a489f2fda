package uk.co.tradersflow.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import uk.co.tradersflow.config.AppConfig;
import uk.co.tradersflow.support.LocalS3;

/**
 * What every blob store must do, proved on local disk and on a real S3-compatible server:
 * write-once streams of any size (S3: single PUT and multipart), byte-range reads, idempotent
 * deletes, aborts that leave nothing, and removing all of one account's blobs and no other's.
 */
class BlobStoreContractTest {
    static LocalS3 s3;
    static Path dir;

    @BeforeAll
    static void start() throws Exception {
        s3 = new LocalS3();
        dir = Files.createTempDirectory("tf-blobs");
    }

    @AfterAll
    static void stop() throws Exception {
        s3.close();
    }

    static List<BlobStore> stores() {
        AppConfig.S3Settings settings = new AppConfig.S3Settings(
                LocalS3.BUCKET,
                "eu-west-2",
                java.util.Optional.of(s3.endpoint()),
                java.util.Optional.of(LocalS3.ACCESS_KEY),
                java.util.Optional.of(LocalS3.SECRET_KEY));
        return List.of(new LocalDiskBlobStore(dir), new S3BlobStore(BlobStores.s3Client(settings), LocalS3.BUCKET));
    }

    static byte[] bytes(int size) {
        byte[] b = new byte[size];
        new Random(size).nextBytes(b);
        return b;
    }

    static byte[] read(BlobStore store, BlobId id, long offset, long length) throws Exception {
        try (InputStream in = store.read(id, offset, length)) {
            return in.readNBytes((int) length);
        }
    }

    @ParameterizedTest
    @MethodSource("stores")
    void blobsOfAnySizeReadBackWholeAndInRanges(BlobStore store) throws Exception {
        UUID account = UUID.randomUUID();
        for (int size : new int[] {0, 1, 70_000, S3BlobStore.PART_SIZE, 2 * S3BlobStore.PART_SIZE + 12_345}) {
            byte[] content = bytes(size);
            BlobId id = BlobId.random(account);
            try (OutputStream out = store.create(id)) {
                for (int at = 0; at < size; at += 100_000) {
                    out.write(content, at, Math.min(100_000, size - at));
                }
            }
            if (size > 0) {
                assertThat(read(store, id, 0, size)).as(store + " size " + size).isEqualTo(content);
                assertThat(read(store, id, size / 2, (size + 1) / 2 - 1 + 1))
                        .isEqualTo(Arrays.copyOfRange(content, size / 2, size));
                assertThat(read(store, id, size - 1, 1)).containsExactly(content[size - 1]);
            }
            store.delete(id);
            store.delete(id);
            BlobId gone = id;
            assertThatThrownBy(() -> read(store, gone, 0, 1)).as("deleted").isInstanceOf(java.io.IOException.class);
        }
    }

    @ParameterizedTest
    @MethodSource("stores")
    void anAbortedBlobLeavesNothing(BlobStore store) throws Exception {
        BlobId id = BlobId.random(UUID.randomUUID());
        BlobStore.Output out = store.create(id);
        out.write(bytes(S3BlobStore.PART_SIZE + 10));
        out.abort();
        assertThatThrownBy(() -> read(store, id, 0, 1)).isInstanceOf(java.io.IOException.class);
    }

    @ParameterizedTest
    @MethodSource("stores")
    void deletingAnAccountRemovesAllItsBlobsAndNoOneElses(BlobStore store) throws Exception {
        UUID doomed = UUID.randomUUID();
        UUID kept = UUID.randomUUID();
        List<BlobId> doomedBlobs = new ArrayList<>();
        for (int i = 0; i < 30; i++) {
            BlobId id = BlobId.random(doomed);
            try (OutputStream out = store.create(id)) {
                out.write(i);
            }
            doomedBlobs.add(id);
        }
        BlobId other = BlobId.random(kept);
        try (OutputStream out = store.create(other)) {
            out.write(7);
        }
        store.deleteAccount(doomed);
        store.deleteAccount(doomed);
        for (BlobId id : doomedBlobs) {
            assertThatThrownBy(() -> read(store, id, 0, 1)).isInstanceOf(java.io.IOException.class);
        }
        assertThat(read(store, other, 0, 1)).containsExactly(7);
    }
}
