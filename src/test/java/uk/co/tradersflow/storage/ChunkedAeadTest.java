package uk.co.tradersflow.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** The stored-file format: round trips of every awkward size, and every kind of tampering detected. */
class ChunkedAeadTest {
    final byte[] key = EnvelopeKeys.newDataKey();
    final UUID doc = UUID.randomUUID();

    static byte[] random(int size) {
        byte[] b = new byte[size];
        new Random(size).nextBytes(b);
        return b;
    }

    /** Plaintext bytes {@code [from, to]} of a sealed file, as a download reads them. */
    byte[] range(ChunkedAead.SealedSource source, long sealedSize, long from, long to) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ChunkedAead.decryptRange(source, sealedSize, from, to, out, key, doc);
        return out.toByteArray();
    }

    byte[] decrypt(byte[] sealed, UUID id) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ChunkedAead.decrypt(new ByteArrayInputStream(sealed), out, key, id);
        return out.toByteArray();
    }

    @Test
    void everySizeRoundTripsAndTheSealedBytesNeverContainThePlaintext() throws Exception {
        int chunk = ChunkedAead.CHUNK;
        for (int size : new int[] {0, 1, 100, chunk - 1, chunk, chunk + 1, 2 * chunk, 3 * chunk + 17}) {
            byte[] plain = random(size);
            byte[] sealed = ChunkedAead.encrypt(plain, key, doc);
            assertThat(decrypt(sealed, doc)).as("size " + size).isEqualTo(plain);
            assertThat(ChunkedAead.plaintextSize(sealed.length)).isEqualTo(size);
        }
        byte[] text =
                "Mrs Patel, 12 Acacia Avenue, alarm code 4321. ".repeat(3000).getBytes(StandardCharsets.UTF_8);
        String sealed = new String(ChunkedAead.encrypt(text, key, doc), StandardCharsets.ISO_8859_1);
        assertThat(sealed).doesNotContain("Acacia").doesNotContain("alarm code");
    }

    /** Single bytes take the same path as runs: across a chunk boundary, and as the whole last chunk. */
    @Test
    void bytesWrittenOneAtATimeRoundTripAcrossAChunkBoundary() throws Exception {
        byte[] plain = random(ChunkedAead.CHUNK + 3);
        ByteArrayOutputStream sealed = new ByteArrayOutputStream();
        try (ChunkedAead.EncryptingOutputStream out = new ChunkedAead.EncryptingOutputStream(sealed, key, doc)) {
            out.write(plain, 0, ChunkedAead.CHUNK - 2);
            for (int i = ChunkedAead.CHUNK - 2; i < plain.length; i++) {
                out.write(plain[i]);
            }
            assertThat(out.plaintextSize()).isEqualTo(plain.length);
        }
        assertThat(decrypt(sealed.toByteArray(), doc)).isEqualTo(plain);
    }

    @Test
    void aFlippedBitAnywhereIsDetected() throws Exception {
        byte[] sealed = ChunkedAead.encrypt(random(3 * ChunkedAead.CHUNK), key, doc);
        for (int position : new int[] {
            ChunkedAead.HEADER - 1,
            ChunkedAead.HEADER + 5,
            ChunkedAead.HEADER + ChunkedAead.SEALED_CHUNK + 9,
            sealed.length - 1
        }) {
            byte[] altered = sealed.clone();
            altered[position] ^= 0x01;
            assertThatThrownBy(() -> decrypt(altered, doc))
                    .as("bit " + position)
                    .isInstanceOf(ChunkedAead.TamperedFileException.class);
        }
    }

    @Test
    void aFileCutAtAChunkBoundaryOrWithChunksReorderedOrFromAnotherDocumentIsDetected() throws Exception {
        byte[] sealed = ChunkedAead.encrypt(random(3 * ChunkedAead.CHUNK + 10), key, doc);
        int h = ChunkedAead.HEADER;
        int s = ChunkedAead.SEALED_CHUNK;
        byte[] truncated = Arrays.copyOf(sealed, h + 2 * s);
        assertThatThrownBy(() -> decrypt(truncated, doc)).isInstanceOf(ChunkedAead.TamperedFileException.class);
        byte[] swapped = sealed.clone();
        System.arraycopy(sealed, h, swapped, h + s, s);
        System.arraycopy(sealed, h + s, swapped, h, s);
        assertThatThrownBy(() -> decrypt(swapped, doc)).isInstanceOf(ChunkedAead.TamperedFileException.class);
        assertThatThrownBy(() -> decrypt(sealed, UUID.randomUUID()))
                .isInstanceOf(ChunkedAead.TamperedFileException.class);
        byte[] otherKey = EnvelopeKeys.newDataKey();
        assertThatThrownBy(() -> ChunkedAead.decrypt(
                        new ByteArrayInputStream(sealed), new ByteArrayOutputStream(), otherKey, doc))
                .isInstanceOf(ChunkedAead.TamperedFileException.class);
    }

    /**
     * A range reads only the chunks holding it: one read of the store from the start when it begins
     * in the first chunk (every whole-file download: one S3 GET), else the header and its chunks.
     */
    @Test
    void aRangeReadsOnlyItsChunksInAsFewReadsAsPossibleAndMatchesTheWhole() throws Exception {
        byte[] plain = random(5 * ChunkedAead.CHUNK + 123);
        byte[] sealed = ChunkedAead.encrypt(plain, key, doc);
        long h = ChunkedAead.HEADER;
        long s = ChunkedAead.SEALED_CHUNK;
        long c = ChunkedAead.CHUNK;
        long end = plain.length - 1;
        // range -> the reads of the store it needs, as {offset, length}
        Object[][] cases = {
            {new long[] {0, end}, new long[][] {{0, sealed.length}}},
            {new long[] {0, 0}, new long[][] {{0, h + s}}},
            {new long[] {c - 10, c + 10}, new long[][] {{0, h + 2 * s}}},
            {new long[] {3 * c, end}, new long[][] {{0, h}, {h + 3 * s, sealed.length - (h + 3 * s)}}},
            {new long[] {end, end}, new long[][] {{0, h}, {h + 5 * s, sealed.length - (h + 5 * s)}}}
        };
        for (Object[] each : cases) {
            long[] r = (long[]) each[0];
            java.util.List<long[]> reads = new java.util.ArrayList<>();
            byte[] opened = range(
                    (offset, length) -> {
                        reads.add(new long[] {offset, length});
                        return new ByteArrayInputStream(sealed, (int) offset, (int) length);
                    },
                    sealed.length,
                    r[0],
                    r[1]);
            assertThat(opened).as(r[0] + "-" + r[1]).isEqualTo(Arrays.copyOfRange(plain, (int) r[0], (int) r[1] + 1));
            assertThat(reads).as("reads for " + r[0] + "-" + r[1]).containsExactly((long[][]) each[1]);
        }
        byte[] badHeader = sealed.clone();
        badHeader[0] ^= 0x01;
        assertThatThrownBy(() -> ChunkedAead.decryptRange(
                        (offset, length) -> new ByteArrayInputStream(badHeader, (int) offset, (int) length),
                        badHeader.length,
                        0,
                        10,
                        new ByteArrayOutputStream(),
                        key,
                        doc))
                .isInstanceOf(ChunkedAead.TamperedFileException.class);
    }

    /**
     * The format files already stored were written in, rebuilt here from its description with
     * nothing but {@code javax.crypto}: every chunk AES-256-GCM on its own, nonce = the file's
     * prefix and the chunk's index, associated data = document id, index, last-chunk flag. Such a
     * file still opens, whole and in ranges; and what the code seals opens the same way.
     */
    @Test
    void filesSealedInTheStoredFormatStillOpenAndNewFilesAreSealedInIt() throws Exception {
        byte[] plain = random(6 * ChunkedAead.CHUNK + 777);
        byte[] stored = sealChunkByChunk(plain, new byte[] {1, 2, 3, 4, 5, 6, 7, 8});
        assertThat(decrypt(stored, doc)).isEqualTo(plain);
        long c = ChunkedAead.CHUNK;
        for (long[] r : new long[][] {{0, plain.length - 1}, {5, 4 * c + 3}, {c, 5 * c - 1}, {6 * c, 6 * c + 776}}) {
            byte[] opened = range(
                    (offset, length) -> new ByteArrayInputStream(stored, (int) offset, (int) length),
                    stored.length,
                    r[0],
                    r[1]);
            assertThat(opened).as(r[0] + "-" + r[1]).isEqualTo(Arrays.copyOfRange(plain, (int) r[0], (int) r[1] + 1));
        }
        byte[] sealed = ChunkedAead.encrypt(plain, key, doc);
        byte[] prefix = Arrays.copyOfRange(sealed, ChunkedAead.MAGIC.length, ChunkedAead.HEADER);
        assertThat(sealed).isEqualTo(sealChunkByChunk(plain, prefix));
    }

    private byte[] sealChunkByChunk(byte[] plain, byte[] prefix) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(ChunkedAead.MAGIC);
        out.write(prefix);
        int chunks = Math.max(1, (plain.length + ChunkedAead.CHUNK - 1) / ChunkedAead.CHUNK);
        for (int i = 0; i < chunks; i++) {
            javax.crypto.Cipher gcm = javax.crypto.Cipher.getInstance("AES/GCM/NoPadding");
            byte[] nonce =
                    java.nio.ByteBuffer.allocate(12).put(prefix).putInt(i).array();
            gcm.init(
                    javax.crypto.Cipher.ENCRYPT_MODE,
                    new javax.crypto.spec.SecretKeySpec(key, "AES"),
                    new javax.crypto.spec.GCMParameterSpec(128, nonce));
            gcm.updateAAD(java.nio.ByteBuffer.allocate(25)
                    .putLong(doc.getMostSignificantBits())
                    .putLong(doc.getLeastSignificantBits())
                    .putLong(i)
                    .put((byte) (i == chunks - 1 ? 1 : 0))
                    .array());
            int from = i * ChunkedAead.CHUNK;
            out.write(gcm.doFinal(plain, from, Math.min(ChunkedAead.CHUNK, plain.length - from)));
        }
        return out.toByteArray();
    }

    /**
     * A download's worker task opens up to four chunks: a 10-chunk file is three reads of the
     * reader, not ten, and ranges starting and ending inside chunks come out exact.
     */
    @Test
    void aReaderOpensUpToFourChunksPerCall() throws Exception {
        int c = ChunkedAead.CHUNK;
        byte[] plain = random(10 * c);
        byte[] sealed = ChunkedAead.encrypt(plain, key, doc);
        ChunkedAead.SealedSource source =
                (offset, length) -> new ByteArrayInputStream(sealed, (int) offset, (int) length);
        List<Integer> parts = new ArrayList<>();
        try (ChunkedAead.RangeReader reader =
                new ChunkedAead.RangeReader(source, sealed.length, 0, plain.length - 1, key, doc)) {
            for (byte[] part = reader.next(); part != null; part = reader.next()) {
                parts.add(part.length);
            }
        }
        assertThat(parts).containsExactly(4 * c, 4 * c, 2 * c);
        Random random = new Random(21);
        for (int i = 0; i < 40; i++) {
            int from = random.nextInt(plain.length);
            int to = from + random.nextInt(plain.length - from);
            assertThat(range(source, sealed.length, from, to))
                    .as(from + "-" + to)
                    .isEqualTo(Arrays.copyOfRange(plain, from, to + 1));
        }
    }

    /** A bad chunk anywhere in a part fails the part: none of its good chunks are handed out. */
    @Test
    void aBadChunkInsideAPartFailsThePartBeforeAnyOfItIsReturned() throws Exception {
        byte[] plain = random(8 * ChunkedAead.CHUNK);
        byte[] sealed = ChunkedAead.encrypt(plain, key, doc);
        sealed[ChunkedAead.HEADER + 6 * ChunkedAead.SEALED_CHUNK + 3] ^= 0x10;
        try (ChunkedAead.RangeReader reader = new ChunkedAead.RangeReader(
                (offset, length) -> new ByteArrayInputStream(sealed, (int) offset, (int) length),
                sealed.length,
                0,
                plain.length - 1,
                key,
                doc)) {
            assertThat(reader.next()).isEqualTo(Arrays.copyOf(plain, 4 * ChunkedAead.CHUNK));
            assertThatThrownBy(reader::next).isInstanceOf(ChunkedAead.TamperedFileException.class);
        }
    }

    @Test
    void dataKeysAreWrappedPerDocumentByTheMasterKey() {
        EnvelopeKeys keys = new EnvelopeKeys(EnvelopeKeys.newDataKey());
        byte[] wrapped = keys.wrap(key, doc);
        String id = keys.currentKeyId();
        assertThat(keys.unwrap(id, wrapped, doc)).isEqualTo(key);
        assertThatThrownBy(() -> keys.unwrap(id, wrapped, UUID.randomUUID()))
                .isInstanceOf(ChunkedAead.TamperedFileException.class);
        assertThatThrownBy(() -> new EnvelopeKeys(EnvelopeKeys.newDataKey()).unwrap(id, wrapped, doc))
                .as("another master key")
                .isInstanceOf(IllegalStateException.class);
    }

    @Test
    void aRotatedMasterKeyStillUnwrapsUntilRewrappedAndIsNamedNotRevealed() {
        byte[] oldMaster = EnvelopeKeys.newDataKey();
        byte[] newMaster = EnvelopeKeys.newDataKey();
        EnvelopeKeys before = new EnvelopeKeys(oldMaster);
        byte[] wrapped = before.wrap(key, doc);
        EnvelopeKeys during = new EnvelopeKeys(newMaster, java.util.List.of(oldMaster));
        assertThat(during.previousKeyIds()).containsExactly(before.currentKeyId());
        assertThat(during.unwrap(before.currentKeyId(), wrapped, doc)).isEqualTo(key);
        byte[] rewrapped = during.rewrap(before.currentKeyId(), wrapped, doc);
        EnvelopeKeys after = new EnvelopeKeys(newMaster);
        assertThat(after.unwrap(during.currentKeyId(), rewrapped, doc)).isEqualTo(key);
        assertThat(during.currentKeyId()).matches("k[0-9a-f]{8}").isNotEqualTo(before.currentKeyId());
        byte[] spoofedId = wrapped.clone();
        assertThatThrownBy(() -> during.unwrap(during.currentKeyId(), spoofedId, doc))
                .as("a key id is bound into the wrapping")
                .isInstanceOf(ChunkedAead.TamperedFileException.class);
    }
}
