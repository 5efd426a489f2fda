package uk.co.tradersflow.platform.http;

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
        assertThat(ProblemResponder.isUnavailable(new ConnectException("Connection refused")))
                .isTrue();
        assertThat(ProblemResponder.isUnavailable(new RuntimeException("wrapped", new ConnectException("refused"))))
                .isTrue();
        assertThat(ProblemResponder.isUnavailable(new TimeoutException())).isTrue();
        assertThat(ProblemResponder.isUnavailable(VertxException.noStackTrace(new TimeoutException("pool"))))
                .isTrue();
        assertThat(ProblemResponder.isUnavailable(new PgException("too many clients", "FATAL", "53300", "d")))
                .isTrue();
        assertThat(ProblemResponder.isUnavailable(new PgException("terminating", "FATAL", "57P01", "d")))
                .isTrue();
        assertThat(ProblemResponder.isUnavailable(new PgException("connection failure", "FATAL", "08006", "d")))
                .isTrue();
    }

    @Test
    void aConnectionResetByADependencyIsUnavailable() throws Exception {
        // What the epoll transport throws when PostgreSQL or Redis drops the connection mid-query
        // (its class needs the native library, loaded by the transport's availability check).
        Class.forName("io.netty.channel.epoll.Epoll")
                .getMethod("ensureAvailability")
                .invoke(null);
        assertThat(ProblemResponder.isUnavailable(
                        new io.netty.channel.unix.Errors.NativeIoException("recvAddress(..)", -104)))
                .isTrue();
        assertThat(ProblemResponder.isUnavailable(new java.net.SocketException("Connection reset")))
                .as("the NIO transport's")
                .isTrue();
        assertThat(ProblemResponder.isUnavailable(new RuntimeException(new java.io.IOException("Broken pipe"))))
                .isTrue();
    }

    @Test
    void aFileTheCodeCouldNotFindOrOpenIsABugNotAnOutage() {
        assertThat(ProblemResponder.isUnavailable(new java.nio.file.NoSuchFileException("/data/files/x")))
                .isFalse();
        assertThat(ProblemResponder.isUnavailable(new java.nio.file.AccessDeniedException("/data/files/x")))
                .isFalse();
    }

    @Test
    void bytesTheHttpCodecRefusedAreAMalformedRequest() {
        NumberFormatException overflow = new NumberFormatException("Chunk size overflow: -1");
        overflow.setStackTrace(new StackTraceElement[] {
            new StackTraceElement(
                    "io.netty.handler.codec.http.HttpObjectDecoder", "getChunkSize", "HttpObjectDecoder.java", 956)
        });
        assertThat(ProblemResponder.isMalformedFraming(overflow)).isTrue();
        assertThat(ProblemResponder.isMalformedFraming(new io.netty.handler.codec.TooLongFrameException("header")))
                .isTrue();
        assertThat(ProblemResponder.isMalformedFraming(new NumberFormatException("For input string: x")))
                .as("our own parsing bug")
                .isFalse();
    }

    @Test
    void racesWithAnotherRequestAreConflictsNotBugs() {
        for (String state : new String[] {"23503", "40001", "40P01"}) {
            assertThat(ProblemResponder.isConcurrentChange(new PgException("race", "ERROR", state, "d")))
                    .as(state)
                    .isTrue();
        }
        assertThat(ProblemResponder.isConcurrentChange(new PgException("check", "ERROR", "23514", "d")))
                .isFalse();
        assertThat(ProblemResponder.isConcurrentChange(new PgException("unique", "ERROR", "23505", "d")))
                .as("a bug unless handled")
                .isFalse();
        assertThat(ProblemResponder.isConcurrentChange(new PgException("syntax", "ERROR", "42601", "d")))
                .isFalse();
        assertThat(ProblemResponder.isConcurrentChange(new IllegalStateException("boom")))
                .isFalse();
    }

    @Test
    void programmingAndDataErrorsAreNot() {
        assertThat(ProblemResponder.isUnavailable(new NullPointerException())).isFalse();
        assertThat(ProblemResponder.isUnavailable(new PgException("syntax", "ERROR", "42601", "d")))
                .isFalse();
        assertThat(ProblemResponder.isUnavailable(new PgException("check", "ERROR", "23514", "d")))
                .isFalse();
        assertThat(ProblemResponder.isUnavailable(new IllegalStateException("boom")))
                .isFalse();
    }
}
