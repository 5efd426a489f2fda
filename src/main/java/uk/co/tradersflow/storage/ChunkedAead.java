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
 */
public final class ChunkedAead {
    public static final int CHUNK = 64 * 1024;
    static final int TAG = 16;
    static final int SEALED_CHUNK = CHUNK + TAG;
    static final byte[] MAGIC = {'T', 'F', 'E', '1'};
    static final int HEADER = MAGIC.length + 8;
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
            byte[] plain = cipher.open(index, last, current, currentLength);
            out.write(plain);
            total += plain.length;
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
            out.write(cipher.seal(index++, false, filling, CHUNK));
            filled = 0;
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
                out.write(cipher.seal(index, true, filling, filled));
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

        /** The next authenticated slice of the range, or null when the range is done. */
        public byte[] next() throws IOException {
            if (index > to / CHUNK) {
                return null;
            }
            long offset = HEADER + index * SEALED_CHUNK;
            int length = (int) Math.min(SEALED_CHUNK, sealedSize - offset);
            byte[] sealed = in.readNBytes(length);
            if (sealed.length != length) {
                throw new TamperedFileException("the file is truncated");
            }
            byte[] plain = cipher.open(index, index == chunks - 1, sealed, length);
            long chunkStart = index * CHUNK;
            int start = (int) Math.max(0, from - chunkStart);
            int end = (int) Math.min(plain.length, to - chunkStart + 1);
            index++;
            return start == 0 && end == plain.length ? plain : Arrays.copyOfRange(plain, start, end);
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

        byte[] seal(long index, boolean last, byte[] plain, int length) {
            try {
                init(Cipher.ENCRYPT_MODE, index, last);
                return cipher.doFinal(plain, 0, length);
            } catch (GeneralSecurityException e) {
                throw new IllegalStateException("AES-GCM is not available", e);
            }
        }

        byte[] open(long index, boolean last, byte[] sealed, int length) {
            try {
                init(Cipher.DECRYPT_MODE, index, last);
                return cipher.doFinal(sealed, 0, length);
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
            byte[] nonce =
                    ByteBuffer.allocate(12).put(prefix).putInt((int) index).array();
            cipher.init(mode, key, new GCMParameterSpec(TAG * 8, nonce));
            cipher.updateAAD(ByteBuffer.allocate(25)
                    .putLong(documentId.getMostSignificantBits())
                    .putLong(documentId.getLeastSignificantBits())
                    .putLong(index)
                    .put((byte) (last ? 1 : 0))
                    .array());
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
