package uk.co.tradersflow.platform.http;

import java.time.Instant;
import java.time.LocalDate;

/**
 * {@link Instant#toString()}'s text (ISO-8601 in UTC, the fraction in groups of three digits),
 * written with arithmetic instead of a DateTimeFormatter. A page of invoices writes forty of
 * these, and the formatter's way was the largest single cost of writing the page.
 */
final class IsoInstant {
  private IsoInstant() {}

  static String format(Instant instant) {
    long seconds = instant.getEpochSecond();
    LocalDate date = LocalDate.ofEpochDay(Math.floorDiv(seconds, 86_400));
    if (date.getYear() < 0 || date.getYear() > 9999) {
      return instant.toString();  // signed and five-digit years: nothing the server stores
    }
    int secondOfDay = (int) Math.floorMod(seconds, 86_400);
    int nanos = instant.getNano();
    char[] out = new char[30];
    int i = digits(out, 0, date.getYear(), 4);
    out[i++] = '-';
    i = digits(out, i, date.getMonthValue(), 2);
    out[i++] = '-';
    i = digits(out, i, date.getDayOfMonth(), 2);
    out[i++] = 'T';
    i = digits(out, i, secondOfDay / 3600, 2);
    out[i++] = ':';
    i = digits(out, i, secondOfDay / 60 % 60, 2);
    out[i++] = ':';
    i = digits(out, i, secondOfDay % 60, 2);
    if (nanos != 0) {
      out[i++] = '.';
      if (nanos % 1_000_000 == 0) {
        i = digits(out, i, nanos / 1_000_000, 3);
      } else if (nanos % 1000 == 0) {
        i = digits(out, i, nanos / 1000, 6);
      } else {
        i = digits(out, i, nanos, 9);
      }
    }
    out[i++] = 'Z';
    return new String(out, 0, i);
  }

  /** {@code value} in exactly {@code width} decimal digits, zero-padded; returns the next index. */
  private static int digits(char[] out, int at, int value, int width) {
    for (int i = at + width - 1; i >= at; i--) {
      out[i] = (char) ('0' + value % 10);
      value /= 10;
    }
    return at + width;
  }
}
