package uk.co.tradersflow.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import uk.co.tradersflow.error.AppError;

/** One byte range, as RFC 9110 reads it; what cannot be honoured is ignored, never guessed at. */
class ByteRangeTest {

    @Test
    void theThreeFormsOfASingleRange() {
        assertThat(ByteRange.parse("bytes=0-9", 100)).contains(new ByteRange(0, 9));
        assertThat(ByteRange.parse("bytes=90-", 100)).contains(new ByteRange(90, 99));
        assertThat(ByteRange.parse("bytes=-10", 100)).contains(new ByteRange(90, 99));
        assertThat(ByteRange.parse("bytes=-500", 100))
                .as("a suffix longer than the file is all of it")
                .contains(new ByteRange(0, 99));
        assertThat(ByteRange.parse("bytes=50-5000", 100))
                .as("an end past the file is clipped")
                .contains(new ByteRange(50, 99));
        assertThat(ByteRange.parse("bytes=50-99999999999999999999", 100)).contains(new ByteRange(50, 99));
        assertThat(ByteRange.parse("bytes=-99999999999999999999", 100)).contains(new ByteRange(0, 99));
        assertThat(ByteRange.parse("BYTES=0-0", 100))
                .as("the unit is case-insensitive")
                .contains(new ByteRange(0, 0));
    }

    @Test
    void malformedOrMultipleRangesMeanTheWholeFile() {
        for (String header : new String[] {
            null, "", "bytes=", "bytes=a-b", "items=0-9", "bytes=9-0", "bytes=0-1,4-5", "bytes=-", "bytes=+1-2"
        }) {
            assertThat(ByteRange.parse(header, 100)).as(String.valueOf(header)).isEmpty();
        }
    }

    @Test
    void aRangeThatStartsPastTheEndIsUnsatisfiable() {
        assertThatThrownBy(() -> ByteRange.parse("bytes=100-", 100))
                .isInstanceOf(AppError.class)
                .satisfies(e -> assertThat(((AppError) e).code().status()).isEqualTo(416));
        assertThatThrownBy(() -> ByteRange.parse("bytes=-0", 100)).isInstanceOf(AppError.class);
        assertThatThrownBy(() -> ByteRange.parse("bytes=99999999999999999999-", 100))
                .isInstanceOf(AppError.class);
    }
}
