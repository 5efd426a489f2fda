package uk.co.tradersflow.storage;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.SeekableByteChannel;
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
    byte[] prefix = new byte[8];
    RANDOM.nextBytes(prefix);
    out.write(MAGIC);
    out.write(prefix);
    byte[] current = new byte[CHUNK];
    byte[] next = new byte[CHUNK];
    int currentLength = readFully(in, current);
    long total = currentLength;
    long index = 0;
    while (true) {
      // Read ahead one chunk: only then do we know whether the current one is the last.
      int nextLength = currentLength == CHUNK ? readFully(in, next) : 0;
      boolean last = nextLength == 0;
      out.write(seal(key, prefix, documentId, index, last, current, currentLength));
      if (last) {
        return total;
      }
      total += nextLength;
      byte[] swap = current;
      current = next;
      next = swap;
      currentLength = nextLength;
      index++;
    }
  }

  /** Decrypts a whole file; fails (and writes nothing more) at the first chunk that does not authenticate. */
  public static long decrypt(InputStream in, OutputStream out, byte[] key, UUID documentId) throws IOException {
    byte[] header = in.readNBytes(HEADER);
    byte[] prefix = prefix(header);
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
      byte[] plain = open(key, prefix, documentId, index, last, current, currentLength);
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

  /** The plaintext length of a sealed file of {@code sealedSize} bytes. */
  public static long plaintextSize(long sealedSize) {
    long body = sealedSize - HEADER;
    long chunks = Math.max(1, (body + SEALED_CHUNK - 1) / SEALED_CHUNK);
    return body - chunks * TAG;
  }

  /**
   * Decrypts plaintext bytes {@code [from, to]} (inclusive), reading and opening only the chunks
   * that hold them: a Range request on a large file costs a chunk or two, not the whole file.
   */
  public static void decryptRange(SeekableByteChannel file, long from, long to, OutputStream out, byte[] key, UUID documentId)
      throws IOException {
    long sealedSize = file.size();
    long chunks = Math.max(1, (sealedSize - HEADER + SEALED_CHUNK - 1) / SEALED_CHUNK);
    ByteBuffer header = ByteBuffer.allocate(HEADER);
    file.position(0);
    readFully(file, header);
    byte[] prefix = prefix(header.array());
    for (long index = from / CHUNK; index <= to / CHUNK; index++) {
      boolean last = index == chunks - 1;
      long offset = HEADER + index * SEALED_CHUNK;
      int length = (int) Math.min(SEALED_CHUNK, sealedSize - offset);
      ByteBuffer sealed = ByteBuffer.allocate(length);
      file.position(offset);
      readFully(file, sealed);
      byte[] plain = open(key, prefix, documentId, index, last, sealed.array(), length);
      long chunkStart = index * CHUNK;
      int start = (int) Math.max(0, from - chunkStart);
      int end = (int) Math.min(plain.length, to - chunkStart + 1);
      out.write(plain, start, end - start);
    }
  }

  private static byte[] seal(byte[] key, byte[] prefix, UUID documentId, long index, boolean last, byte[] plain, int length) {
    try {
      Cipher cipher = cipher(Cipher.ENCRYPT_MODE, key, prefix, documentId, index, last);
      return cipher.doFinal(plain, 0, length);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("AES-GCM is not available", e);
    }
  }

  private static byte[] open(byte[] key, byte[] prefix, UUID documentId, long index, boolean last, byte[] sealed, int length) {
    try {
      Cipher cipher = cipher(Cipher.DECRYPT_MODE, key, prefix, documentId, index, last);
      return cipher.doFinal(sealed, 0, length);
    } catch (javax.crypto.AEADBadTagException e) {
      throw new TamperedFileException("chunk " + index + " does not authenticate");
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("AES-GCM is not available", e);
    }
  }

  private static Cipher cipher(int mode, byte[] key, byte[] prefix, UUID documentId, long index, boolean last)
      throws GeneralSecurityException {
    if (index > 0xFFFF_FFFFL) {
      throw new IllegalStateException("file too large for this format");
    }
    byte[] nonce = ByteBuffer.allocate(12).put(prefix).putInt((int) index).array();
    Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
    cipher.init(mode, new SecretKeySpec(key, "AES"), new GCMParameterSpec(TAG * 8, nonce));
    cipher.updateAAD(ByteBuffer.allocate(25).putLong(documentId.getMostSignificantBits())
        .putLong(documentId.getLeastSignificantBits()).putLong(index).put((byte) (last ? 1 : 0)).array());
    return cipher;
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

  private static void readFully(SeekableByteChannel channel, ByteBuffer buffer) throws IOException {
    while (buffer.hasRemaining()) {
      if (channel.read(buffer) < 0) {
        throw new EOFException("unexpected end of file");
      }
    }
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
