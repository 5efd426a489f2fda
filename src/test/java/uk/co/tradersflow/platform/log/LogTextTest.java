package uk.co.tradersflow.platform.log;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** Text a client chose goes into a log line as one short line of printable ASCII. */
class LogTextTest {
    @Test
    void lineBreaksAndOtherUnprintablesBecomeQuestionMarksSoNoLineCanBeForged() {
        assertThat(LogText.printable("a\r\n12:00 INFO forged\té")).isEqualTo("a??12:00 INFO forged??");
    }

    @Test
    void longTextIsCutToEightyCharactersAndMarked() {
        String origin = "eyJ".repeat(2700);
        assertThat(LogText.printable(origin)).isEqualTo(origin.substring(0, 80) + "…");
        assertThat(LogText.printable("x".repeat(80))).isEqualTo("x".repeat(80));
    }

    @Test
    void nothingIsNamedAsNothing() {
        assertThat(LogText.printable(null)).isEqualTo("(none)");
    }
}
