package uk.co.tradersflow.error;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.VertxException;
import io.vertx.pgclient.PgException;
import java.net.ConnectException;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;

/** Which failures mean "a dependency is down, retry" (503) rather than a bug (500). */
class ProblemResponderUnitTest {

  @Test
  void connectionFailuresTimeoutsAndTransientPostgresStatesAreUnavailable() {
    assertThat(ProblemResponder.isUnavailable(new ConnectException("Connection refused"))).isTrue();
    assertThat(ProblemResponder.isUnavailable(new RuntimeException("wrapped", new ConnectException("refused")))).isTrue();
    assertThat(ProblemResponder.isUnavailable(new TimeoutException())).isTrue();
    assertThat(ProblemResponder.isUnavailable(VertxException.noStackTrace(new TimeoutException("pool")))).isTrue();
    assertThat(ProblemResponder.isUnavailable(new PgException("too many clients", "FATAL", "53300", "d"))).isTrue();
    assertThat(ProblemResponder.isUnavailable(new PgException("terminating", "FATAL", "57P01", "d"))).isTrue();
    assertThat(ProblemResponder.isUnavailable(new PgException("connection failure", "FATAL", "08006", "d"))).isTrue();
  }

  @Test
  void racesWithAnotherRequestAreConflictsNotBugs() {
    for (String state : new String[] {"23503", "40001", "40P01"}) {
      assertThat(ProblemResponder.isConcurrentChange(new PgException("race", "ERROR", state, "d"))).as(state).isTrue();
    }
    assertThat(ProblemResponder.isConcurrentChange(new PgException("check", "ERROR", "23514", "d"))).isFalse();
    assertThat(ProblemResponder.isConcurrentChange(new PgException("unique", "ERROR", "23505", "d"))).as("a bug unless handled").isFalse();
    assertThat(ProblemResponder.isConcurrentChange(new PgException("syntax", "ERROR", "42601", "d"))).isFalse();
    assertThat(ProblemResponder.isConcurrentChange(new IllegalStateException("boom"))).isFalse();
  }

  @Test
  void programmingAndDataErrorsAreNot() {
    assertThat(ProblemResponder.isUnavailable(new NullPointerException())).isFalse();
    assertThat(ProblemResponder.isUnavailable(new PgException("syntax", "ERROR", "42601", "d"))).isFalse();
    assertThat(ProblemResponder.isUnavailable(new PgException("check", "ERROR", "23514", "d"))).isFalse();
    assertThat(ProblemResponder.isUnavailable(new IllegalStateException("boom"))).isFalse();
  }
}
