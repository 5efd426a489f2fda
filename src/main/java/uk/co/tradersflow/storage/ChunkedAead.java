package uk.co.tradersflow.storage;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.UUID;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * Streaming AES-256-GCM for stored files, in the style of Tink's streaming AEAD and age's STREAM:
 * the plaintext is cut into 64 KiB chunks, each sealed on its own, so a file of any size needs
 * one chunk of memory. Each chunk's nonce is a per-file random prefix plus the chunk's index, and
 * its associated data binds the document id, the index and whether it is the last chunk, so a
 * flipped bit, a reordered or swapped chunk, a chunk from another file and a file cut short at a
 * chunk boundary all fail to decrypt instead of yielding altered bytes.
 *
 * <p>Layout: {@code "TFE1" | nonce prefix (8) | chunk 0 | chunk 1 | …}, every chunk but the last
 * exactly {@value #CHUNK} + 16 bytes. Blocking: run it on worker threads only.
 *
 * <p>The chunk size is the format's and stays; what a caller hands over per worker task is not:
 * {@link RangeReader#next()} opens up to {@value #PART_CHUNKS} chunks at once, and the sealing
 * stream takes runs of any length, sealing whole chunks straight from the caller's array. Each
 * worker task then moves a quarter of a megabyte instead of 64 KiB, so a 50 MiB transfer costs
 * 200 hand-offs between the event loop and the workers rather than 800, and no chunk allocates.
 */
public final class ChunkedAead {
    public static final int CHUNK = 64 * 1024;
    static final int TAG = 16;
    static final int SEALED_CHUNK = CHUNK + TAG;
    static final byte[] MAGIC = {'T', 'F', 'E', '1'};
    static final int HEADER = MAGIC.length + 8;
    /** Chunks a {@link RangeReader#next()} opens at once: a download's worker task. */
    static final int PART_CHUNKS = 4;

    private static final SecureRandom RANDOM = new SecureRandom();

    private ChunkedAead() {}

    /** Encrypts everything {@code in} holds into {@code out}; answers the plaintext length. */
    public static long encrypt(InputStream in, OutputStream out, byte[] key, UUID documentId) throws IOException {
        try (EncryptingOutputStream sealed = new EncryptingOutputStream(out, key, documentId)) {
            in.transferTo(sealed);
            sealed.close();
            return sealed.plaintextSize();
        }
    }

    /** Decrypts a whole file; fails (and writes nothing more) at the first chunk that does not authenticate. */
    public static long decrypt(InputStream in, OutputStream out, byte[] key, UUID documentId) throws IOException {
        ChunkCipher cipher = new ChunkCipher(key, prefix(in.readNBytes(HEADER)), documentId);
        byte[] current = new byte[SEALED_CHUNK];
        byte[] next = new byte[SEALED_CHUNK];
        int currentLength = readFully(in, current);
        if (currentLength < TAG) {
            throw new TamperedFileException("the file is truncated");
        }
        long total = 0;
        long index = 0;
        while (true) {
            int nextLength = currentLength == SEALED_CHUNK ? readFully(in, next) : 0;
            boolean last = nextLength == 0;
            int plain = cipher.open(index, last, current, 0, currentLength, current, 0);
            out.write(current, 0, plain);
            total += plain;
            if (last) {
                return total;
            }
            if (nextLength < TAG) {
                throw new TamperedFileException("the file is truncated");
            }
            byte[] swap = current;
            current = next;
            next = swap;
            currentLength = nextLength;
            index++;
        }
    }

    /** The stored length of a file of {@code plaintextSize} bytes: header plus one tag per chunk. */
    public static long sealedSize(long plaintextSize) {
        long chunks = Math.max(1, (plaintextSize + CHUNK - 1) / CHUNK);
        return HEADER + plaintextSize + chunks * TAG;
    }

    /** The plaintext length of a sealed file of {@code sealedSize} bytes. */
    public static long plaintextSize(long sealedSize) {
        return sealedSize - HEADER - chunkCount(sealedSize) * TAG;
    }

    /** Where a sealed file's bytes come from: a byte range of the stored blob. */
    @FunctionalInterface
    public interface SealedSource {
        InputStream open(long offset, long length) throws IOException;
    }

    /**
     * Decrypts plaintext bytes {@code [from, to]} (inclusive), reading and opening only the chunks
     * that hold them: a Range request on a large file costs a chunk or two, not the whole file.
     */
    public static void decryptRange(
            SealedSource source, long sealedSize, long from, long to, OutputStream out, byte[] key, UUID documentId)
            throws IOException {
        try (RangeReader reader = new RangeReader(source, sealedSize, from, to, key, documentId)) {
            for (byte[] part = reader.next(); part != null; part = reader.next()) {
                out.write(part);
            }
        }
    }

    /**
     * Seals whatever is written to it, chunk by chunk, into {@code out}. A full chunk is sealed
     * only when more bytes arrive, so it is then known not to be the last; {@link #close()} seals
     * the final chunk (empty if the file is empty). Memory: one chunk.
     */
    public static final class EncryptingOutputStream extends RunOutputStream {
        private final OutputStream out;
        private final ChunkCipher cipher;
        private final byte[] filling = new byte[CHUNK];
        private final byte[] sealed = new byte[SEALED_CHUNK];
        private int filled;
        private long index;
        private long total;
        private boolean closed;

        public EncryptingOutputStream(OutputStream out, byte[] key, UUID documentId) throws IOException {
            byte[] prefix = new byte[8];
            RANDOM.nextBytes(prefix);
            this.out = out;
            this.cipher = new ChunkCipher(key, prefix, documentId);
            out.write(MAGIC);
            out.write(prefix);
        }

        @Override
        public void write(byte[] bytes, int offset, int length) throws IOException {
            while (length > 0) {
                if (filled == CHUNK) {
                    rotate();
                }
                if (filled == 0 && length > CHUNK) {
                    // A whole chunk with more bytes after it in this run: not the last, sealed in place.
                    seal(index++, false, bytes, offset, CHUNK);
                    offset += CHUNK;
                    length -= CHUNK;
                    total += CHUNK;
                    continue;
                }
                int n = Math.min(length, CHUNK - filled);
                System.arraycopy(bytes, offset, filling, filled, n);
                filled += n;
                offset += n;
                length -= n;
                total += n;
            }
        }

        /** Called only when the chunk is full and more bytes are coming: it is not the last. */
        private void rotate() throws IOException {
            seal(index++, false, filling, 0, CHUNK);
            filled = 0;
        }

        private void seal(long chunk, boolean last, byte[] plain, int offset, int length) throws IOException {
            out.write(sealed, 0, cipher.seal(chunk, last, plain, offset, length, sealed));
        }

        public long plaintextSize() {
            return total;
        }

        /** Seals the last chunk and closes {@code out}; the file is complete only after this. */
        @Override
        public void close() throws IOException {
            if (closed) {
                return;
            }
            closed = true;
            try (out) {
                seal(index, true, filling, 0, filled);
            }
        }
    }

    /**
     * Reads plaintext bytes {@code [from, to]} of a sealed file one chunk per {@link #next()}, so a
     * caller can stream a download with backpressure, a chunk at a time, from a worker thread. Each
     * chunk is authenticated before any of its bytes are returned.
     */
    public static final class RangeReader implements java.io.Closeable {
        private final InputStream in;
        private final ChunkCipher cipher;
        private final long sealedSize;
        private final long chunks;
        private final long from;
        private final long to;
        private final byte[] sealed;
        /** A chunk the range begins or ends inside, opened whole; only ever one or two per range. */
        private byte[] edge;

        private long index;

        public RangeReader(SealedSource source, long sealedSize, long from, long to, byte[] key, UUID documentId)
                throws IOException {
            long size = plaintextSize(sealedSize);
            if (from < 0 || to < from || to >= size) {
                throw new IllegalArgumentException("range " + from + "-" + to + " outside 0-" + (size - 1));
            }
            this.sealedSize = sealedSize;
            this.chunks = chunkCount(sealedSize);
            this.from = from;
            this.to = to;
            this.index = from / CHUNK;
            this.sealed = new byte[(int) Math.min(PART_CHUNKS, to / CHUNK - index + 1) * SEALED_CHUNK];
            long end = Math.min(sealedSize, HEADER + (to / CHUNK + 1) * SEALED_CHUNK);
            byte[] header;
            if (index == 0) {
                // From the first chunk (every whole-file download): header and chunks in one read of the
                // store, which on S3 is one GET instead of two.
                this.in = source.open(0, end);
                try {
                    header = in.readNBytes(HEADER);
                } catch (IOException | RuntimeException e) {
                    in.close();
                    throw e;
                }
            } else {
                try (InputStream head = source.open(0, HEADER)) {
                    header = head.readNBytes(HEADER);
                }
                long start = HEADER + index * SEALED_CHUNK;
                this.in = source.open(start, end - start);
            }
            try {
                this.cipher = new ChunkCipher(key, prefix(header), documentId);
            } catch (RuntimeException e) {
                in.close();
                throw e;
            }
        }

        /**
         * The next authenticated slice of the range, up to {@value #PART_CHUNKS} chunks of it, or
         * null when the range is done. Every chunk in the slice is authenticated before it is
         * returned: a bad one fails the whole call.
         */
        public byte[] next() throws IOException {
            long lastChunk = to / CHUNK;
            if (index > lastChunk) {
                return null;
            }
            long first = index;
            int count = (int) Math.min(PART_CHUNKS, lastChunk - first + 1);
            long offset = HEADER + first * SEALED_CHUNK;
            int length = (int) Math.min((long) count * SEALED_CHUNK, sealedSize - offset);
            if (in.readNBytes(sealed, 0, length) != length) {
                throw new TamperedFileException("the file is truncated");
            }
            long partStart = first * CHUNK;
            int start = (int) Math.max(0, from - partStart);
            int end = (int) (Math.min(to, partStart + (long) count * CHUNK - 1) - partStart + 1);
            byte[] plain = new byte[end - start];
            for (int i = 0; i < count; i++, index++) {
                int at = i * SEALED_CHUNK;
                int sealedLength = Math.min(SEALED_CHUNK, length - at);
                if (sealedLength < TAG) {
                    throw new TamperedFileException("the file is truncated");
                }
                int chunkAt = i * CHUNK;
                boolean last = index == chunks - 1;
                if (chunkAt >= start && chunkAt + sealedLength - TAG <= end) {
                    cipher.open(index, last, sealed, at, sealedLength, plain, chunkAt - start);
                } else {
                    // The range begins or ends inside this chunk: open it whole, keep its part.
                    if (edge == null) {
                        edge = new byte[CHUNK];
                    }
                    int n = cipher.open(index, last, sealed, at, sealedLength, edge, 0);
                    int keepFrom = Math.max(start, chunkAt);
                    int keepTo = Math.min(end, chunkAt + n);
                    System.arraycopy(edge, keepFrom - chunkAt, plain, keepFrom - start, keepTo - keepFrom);
                }
            }
            return plain;
        }

        @Override
        public void close() throws IOException {
            in.close();
        }
    }

    private static long chunkCount(long sealedSize) {
        return Math.max(1, (sealedSize - HEADER + SEALED_CHUNK - 1) / SEALED_CHUNK);
    }

    /**
     * AES-256-GCM for one file's chunks: one {@link Cipher} re-initialised per chunk with that
     * chunk's nonce and associated data, rather than a provider lookup per 64 KiB. Not thread-safe;
     * each stream or reader has its own.
     */
    private static final class ChunkCipher {
        private final SecretKeySpec key;
        private final byte[] prefix;
        private final UUID documentId;
        private final Cipher cipher;
        private final byte[] nonce = new byte[12];
        private final ByteBuffer associated = ByteBuffer.allocate(25);

        ChunkCipher(byte[] key, byte[] prefix, UUID documentId) {
            this.key = new SecretKeySpec(key, "AES");
            this.prefix = prefix;
            this.documentId = documentId;
            try {
                this.cipher = Cipher.getInstance("AES/GCM/NoPadding");
            } catch (GeneralSecurityException e) {
                throw new IllegalStateException("AES-GCM is not available", e);
            }
        }

        /** Seals {@code plain[offset, offset + length)} into {@code out} from 0; answers the sealed length. */
        int seal(long index, boolean last, byte[] plain, int offset, int length, byte[] out) {
            try {
                init(Cipher.ENCRYPT_MODE, index, last);
                return cipher.doFinal(plain, offset, length, out, 0);
            } catch (GeneralSecurityException e) {
                throw new IllegalStateException("AES-GCM is not available", e);
            }
        }

        /** Opens one sealed chunk into {@code out} at {@code outOffset} (may be the same array); answers its length. */
        int open(long index, boolean last, byte[] sealed, int offset, int length, byte[] out, int outOffset) {
            try {
                init(Cipher.DECRYPT_MODE, index, last);
                return cipher.doFinal(sealed, offset, length, out, outOffset);
            } catch (javax.crypto.AEADBadTagException e) {
                throw new TamperedFileException("chunk " + index + " does not authenticate");
            } catch (GeneralSecurityException e) {
                throw new IllegalStateException("AES-GCM is not available", e);
            }
        }

        private void init(int mode, long index, boolean last) throws GeneralSecurityException {
            if (index > 0xFFFF_FFFFL) {
                throw new IllegalStateException("file too large for this format");
            }
            ByteBuffer.wrap(nonce).put(prefix).putInt((int) index);
            cipher.init(mode, key, new GCMParameterSpec(TAG * 8, nonce));
            associated
                    .clear()
                    .putLong(documentId.getMostSignificantBits())
                    .putLong(documentId.getLeastSignificantBits())
                    .putLong(index)
                    .put((byte) (last ? 1 : 0));
            cipher.updateAAD(associated.array());
        }
    }

    private static byte[] prefix(byte[] header) {
        if (header.length != HEADER || !Arrays.equals(Arrays.copyOf(header, MAGIC.length), MAGIC)) {
            throw new TamperedFileException("not a TradersFlow encrypted file");
        }
        return Arrays.copyOfRange(header, MAGIC.length, HEADER);
    }

    private static int readFully(InputStream in, byte[] buffer) throws IOException {
        return in.readNBytes(buffer, 0, buffer.length);
    }

    /** Encrypts a small byte array (tests and key wrapping helpers). */
    static byte[] encrypt(byte[] plain, byte[] key, UUID documentId) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        encrypt(new java.io.ByteArrayInputStream(plain), out, key, documentId);
        return out.toByteArray();
    }

    /** The stored bytes do not authenticate: altered, truncated, reordered or from another file. */
    public static final class TamperedFileException extends RuntimeException {
        TamperedFileException(String message) {
            super(message, null, false, false);
        }
    }
}
