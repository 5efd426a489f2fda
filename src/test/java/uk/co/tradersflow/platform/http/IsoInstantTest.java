package uk.co.tradersflow.platform.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The hand-written format must be {@link Instant#toString()}'s, to the character. */
class IsoInstantTest {
  @Test
  void writesExactlyWhatInstantToStringWrites() {
    Random random = new Random(20261125);
    long min = Instant.parse("0000-01-01T00:00:00Z").getEpochSecond();
    long max = Instant.parse("9999-12-31T23:59:59Z").getEpochSecond();
    int[] precisions = {0, 1_000_000, 1000, 1};
    for (int n = 0; n < 200_000; n++) {
      long seconds = min + (long) (random.nextDouble() * (max - min));
      int unit = precisions[random.nextInt(precisions.length)];
      int nanos = unit == 0 ? 0 : random.nextInt(1_000_000_000 / unit) * unit;
      Instant instant = Instant.ofEpochSecond(seconds, nanos);
      assertThat(IsoInstant.format(instant)).isEqualTo(instant.toString());
    }
  }

  @Test
  void edgesOfDaysYearsAndTheRangeAreTheSameToo() {
    for (String text : new String[] {"1970-01-01T00:00:00Z", "1969-12-31T23:59:59.999999999Z", "2000-02-29T12:00:00.100Z",
        "2026-11-25T10:46:36.846225Z", "0000-01-01T00:00:00Z", "9999-12-31T23:59:59.999999Z", "+10000-01-01T00:00:00Z",
        "-0001-12-31T23:59:59Z", "1900-01-01T00:00:00.000000001Z"}) {
      Instant instant = Instant.parse(text);
      assertThat(IsoInstant.format(instant)).isEqualTo(instant.toString()).isEqualTo(text);
    }
  }
}
