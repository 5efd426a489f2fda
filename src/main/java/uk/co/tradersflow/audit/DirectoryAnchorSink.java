package uk.co.tradersflow.audit;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.Predicate;
import java.util.stream.Stream;

/**
 * Checkpoints as JSON lines appended to {@code checkpoints-<UTC day>-<instance>.jsonl} under one
 * directory ({@code TF_AUDIT_ANCHOR_DIR}). A file per instance: instances that share the
 * directory (a network file system, where appends of different writers may interleave or be lost)
 * never write the same file, and each file has a single writer, so its lines stay whole. A file
 * per day keeps each small and lets an operator ship, seal ({@code chattr +a}, WORM storage) or
 * archive closed days. Each line is written with one {@code write} on a channel opened for
 * APPEND only (nothing here can truncate or rewrite a file) and forced to disk before the
 * checkpoint counts as anchored; a new file's directory entry is forced too.
 */
final class DirectoryAnchorSink implements AnchorSink {
    static final String PREFIX = "checkpoints-";
    static final String SUFFIX = ".jsonl";

    private final Path dir;
    private final String instance;
    private final Clock clock;

    DirectoryAnchorSink(Path dir, String instance, Clock clock) {
        this.dir = dir;
        this.instance = instance;
        this.clock = clock;
    }

    @Override
    public String describe() {
        return "directory " + dir.toAbsolutePath();
    }

    Path todaysFile() {
        return dir.resolve(PREFIX + LocalDate.now(clock.withZone(ZoneOffset.UTC)) + "-" + instance + SUFFIX);
    }

    @Override
    public void append(String key, String line) throws IOException {
        Files.createDirectories(dir);
        Path file = todaysFile();
        boolean created = !Files.exists(file);
        ByteBuffer bytes = ByteBuffer.wrap((line + "\n").getBytes(StandardCharsets.UTF_8));
        try (FileChannel out = FileChannel.open(
                file, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND)) {
            while (bytes.hasRemaining()) {
                out.write(bytes);
            }
            out.force(true);
        }
        if (created) {
            forceDirectory();
        }
    }

    /** Makes a new file's name durable as well as its bytes (Linux: fsync on the directory). */
    private void forceDirectory() {
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        } catch (IOException | UnsupportedOperationException e) {
            // Some platforms cannot open a directory; the file's own fsync has to do there.
        }
    }

    @Override
    public void readAll(Predicate<String> wanted, Consumer<Stored> each) throws IOException {
        if (!Files.isDirectory(dir)) {
            return;
        }
        List<Path> files;
        try (Stream<Path> listed = Files.list(dir)) {
            files = listed.filter(p -> {
                        String name = p.getFileName().toString();
                        return name.startsWith(PREFIX) && name.endsWith(SUFFIX);
                    })
                    .sorted()
                    .toList();
        }
        for (Path file : files) {
            // A reader that replaces undecodable bytes: a damaged or forged file is reported line by line, not thrown.
            try (BufferedReader in =
                    new BufferedReader(new InputStreamReader(Files.newInputStream(file), StandardCharsets.UTF_8))) {
                int number = 0;
                for (String text = in.readLine(); text != null; text = in.readLine()) {
                    number++;
                    if (!text.isBlank()) {
                        each.accept(new Stored(file.getFileName() + ":" + number, text));
                    }
                }
            }
        }
    }
}
