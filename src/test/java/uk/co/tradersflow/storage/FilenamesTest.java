package uk.co.tradersflow.storage;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** A client's filename is kept as harmless metadata: no path, no header breaking, no disguise. */
class FilenamesTest {

    @Test
    void pathPartsAreDroppedWhateverTheSeparator() {
        assertThat(Filenames.sanitize("../../etc/passwd", FileType.PDF)).isEqualTo("passwd");
        assertThat(Filenames.sanitize("..\\..\\Windows\\win.ini", FileType.PDF)).isEqualTo("win.ini");
        assertThat(Filenames.sanitize("/var/photos/boiler.jpg", FileType.JPEG)).isEqualTo("boiler.jpg");
        assertThat(Filenames.sanitize("..", FileType.PNG)).isEqualTo("document.png");
        assertThat(Filenames.sanitize(".htaccess", FileType.PDF)).isEqualTo("htaccess");
    }

    @Test
    void controlQuoteAndBidiCharactersAreRemoved() {
        assertThat(Filenames.sanitize("quote\r\nSet-Cookie: x=1.pdf", FileType.PDF))
                .isEqualTo("quoteSet-Cookie: x=1.pdf");
        assertThat(Filenames.sanitize("a\"b\u0000c.pdf", FileType.PDF)).isEqualTo("abc.pdf");
        assertThat(Filenames.sanitize("invoice\u202Egpj.exe", FileType.JPEG)).isEqualTo("invoicegpj.exe");
        assertThat(Filenames.sanitize(null, FileType.HEIC)).isEqualTo("document.heic");
        assertThat(Filenames.sanitize("x".repeat(400) + ".pdf", FileType.PDF)).hasSize(Filenames.MAX_LENGTH);
        assertThat(Filenames.sanitize("Café quote €.pdf", FileType.PDF)).isEqualTo("Café quote €.pdf");
    }

    @Test
    void theDownloadNameIsQuotedSafelyAndCarriesTheRealTypesExtension() {
        assertThat(Filenames.contentDisposition("invoice.jpg", FileType.PDF))
                .isEqualTo("attachment; filename=\"invoice.jpg.pdf\"; filename*=UTF-8''invoice.jpg.pdf");
        assertThat(Filenames.contentDisposition("photo.JPEG", FileType.JPEG))
                .startsWith("attachment; filename=\"photo.JPEG\"");
        assertThat(Filenames.contentDisposition("Café; x=€.pdf", FileType.PDF))
                .isEqualTo("attachment; filename=\"Caf__ x=_.pdf\"; filename*=UTF-8''Caf%C3%A9%3B%20x%3D%E2%82%AC.pdf");
    }
}
