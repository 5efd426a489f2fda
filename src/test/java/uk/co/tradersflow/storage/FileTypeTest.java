package uk.co.tradersflow.storage;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** The type comes from the bytes: each accepted type by its signature, and look-alikes refused. */
class FileTypeTest {

    @Test
    void eachAcceptedTypeIsRecognisedByItsLeadingBytes() {
        assertThat(FileType.sniff(head(SampleFiles.jpeg(100)))).contains(FileType.JPEG);
        assertThat(FileType.sniff(head(SampleFiles.png(100)))).contains(FileType.PNG);
        assertThat(FileType.sniff(head(SampleFiles.webp(100)))).contains(FileType.WEBP);
        assertThat(FileType.sniff(head(SampleFiles.heic(100)))).contains(FileType.HEIC);
        assertThat(FileType.sniff(head(SampleFiles.pdf(100)))).contains(FileType.PDF);
    }

    @Test
    void lookAlikesAndOtherFormatsAreRefused() {
        assertThat(FileType.sniff(SampleFiles.html())).isEmpty();
        assertThat(FileType.sniff("<svg xmlns=\"http://www.w3.org/2000/svg\"/>".getBytes(StandardCharsets.UTF_8)))
                .isEmpty();
        assertThat(FileType.sniff(new byte[0])).isEmpty();
        assertThat(FileType.sniff(new byte[] {(byte) 0xFF, (byte) 0xD8}))
                .as("half a JPEG signature")
                .isEmpty();
        assertThat(FileType.sniff("RIFF\0\0\0\0WAVEfmt ".getBytes(StandardCharsets.ISO_8859_1)))
                .as("a WAV is RIFF too")
                .isEmpty();
        assertThat(FileType.sniff(" %PDF-1.7".getBytes(StandardCharsets.US_ASCII)))
                .as("not at the start")
                .isEmpty();
        byte[] avif = {
            0, 0, 0, 0x18, 'f', 't', 'y', 'p', 'a', 'v', 'i', 'f', 0, 0, 0, 0, 'm', 'i', 'f', '1', 'a', 'v', 'i', 'f'
        };
        assertThat(FileType.sniff(avif)).as("AVIF is HEIF but not HEIC").isEmpty();
        byte[] genericHeif = avif.clone();
        System.arraycopy("mif1".getBytes(StandardCharsets.US_ASCII), 0, genericHeif, 8, 4);
        assertThat(FileType.sniff(genericHeif)).as("mif1 without an HEVC brand").isEmpty();
        byte[] mp4 = {
            0, 0, 0, 0x18, 'f', 't', 'y', 'p', 'i', 's', 'o', 'm', 0, 0, 0, 0, 'i', 's', 'o', 'm', 'm', 'p', '4', '1'
        };
        assertThat(FileType.sniff(mp4)).isEmpty();
    }

    private static byte[] head(byte[] file) {
        return Arrays.copyOf(file, Math.min(file.length, FileType.HEAD));
    }
}
