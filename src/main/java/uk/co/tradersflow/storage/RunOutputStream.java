package uk.co.tradersflow.storage;

import java.io.IOException;
import java.io.OutputStream;

/**
 * An output stream that takes its bytes in runs: a single byte goes through
 * {@link #write(byte[], int, int)} as a run of one, so a stream that buffers (the chunk sealer,
 * the S3 part uploader) has one write path to get right.
 */
public abstract class RunOutputStream extends OutputStream {
    @Override
    public void write(int b) throws IOException {
        write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public abstract void write(byte[] bytes, int offset, int length) throws IOException;
}
