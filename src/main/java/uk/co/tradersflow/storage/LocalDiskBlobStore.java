package uk.co.tradersflow.storage;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Comparator;
import java.util.UUID;
import java.util.stream.Stream;

/**
 * Blobs as files under {@code TF_STORAGE_DIR/<accountId>/<random name>}, folders 0700 and files
 * 0600 where the file system has POSIX permissions. A finished blob is fsynced before
 * {@code close()} returns, so a committed document row never points at bytes still in the page
 * cache when the machine dies.
 */
public final class LocalDiskBlobStore implements BlobStore {
    private final Path root;
    private final boolean posix;

    public LocalDiskBlobStore(Path root) {
        this.root = root.toAbsolutePath().normalize();
        this.posix = FileSystems.getDefault().supportedFileAttributeViews().contains("posix");
    }

    @Override
    public Output create(BlobId id) throws IOException {
        Path folder = folder(id.accountId());
        if (!Files.isDirectory(folder)) {
            Files.createDirectories(folder);
            if (posix) {
                Files.setPosixFilePermissions(folder, PosixFilePermissions.fromString("rwx------"));
            }
        }
        Path file = path(id);
        FileChannel channel = posix
                ? FileChannel.open(
                        file,
                        java.util.Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE),
                        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")))
                : FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        return new FileOutput(channel, file);
    }

    @Override
    public InputStream read(BlobId id, long offset, long length) throws IOException {
        FileChannel channel = FileChannel.open(path(id), StandardOpenOption.READ);
        channel.position(offset);
        return new java.io.BufferedInputStream(Channels.newInputStream(channel), 128 * 1024);
    }

    @Override
    public void delete(BlobId id) throws IOException {
        Files.deleteIfExists(path(id));
    }

    @Override
    public void deleteAccount(UUID accountId) throws IOException {
        Path folder = folder(accountId);
        if (!Files.exists(folder)) {
            return;
        }
        try (Stream<Path> entries = Files.walk(folder)) {
            for (Path p : entries.sorted(Comparator.reverseOrder()).toList()) {
                try {
                    Files.deleteIfExists(p);
                } catch (DirectoryNotEmptyException e) {
                    // a blob written concurrently; the next round removes it
                    throw new IOException("the folder of account " + accountId + " is still being written to", e);
                } catch (NoSuchFileException e) {
                    // already gone
                }
            }
        }
    }

    Path path(BlobId id) {
        Path file = folder(id.accountId()).resolve(id.name()).normalize();
        // BlobId's alphabet already forbids separators and dots; this is the belt to those braces.
        if (!file.getParent().equals(folder(id.accountId()))) {
            throw new IllegalArgumentException("a blob path must stay in its account's folder");
        }
        return file;
    }

    private Path folder(UUID accountId) {
        return root.resolve(accountId.toString());
    }

    /** Buffered writes; the bytes reach the disk before close() returns; abort() removes the file. */
    private static final class FileOutput extends Output {
        private final FileChannel channel;
        private final Path file;
        private final OutputStream out;

        FileOutput(FileChannel channel, Path file) {
            this.channel = channel;
            this.file = file;
            this.out = new java.io.BufferedOutputStream(Channels.newOutputStream(channel), 128 * 1024);
        }

        @Override
        public void write(int b) throws IOException {
            out.write(b);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            out.write(b, off, len);
        }

        @Override
        public void close() throws IOException {
            try (channel) {
                if (channel.isOpen()) {
                    out.flush();
                    channel.force(true);
                }
            }
        }

        @Override
        public void abort() throws IOException {
            channel.close();
            Files.deleteIfExists(file);
        }
    }
}
