package uk.co.tradersflow.admin.report;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** RFC 4180 quoting and the formula-injection prefix, cell by cell. */
class CsvCellsTest {
    @Test
    void plainTextIsWrittenAsItIs() {
        assertThat(CsvCells.cell("Sparks Ltd")).isEqualTo("Sparks Ltd");
        assertThat(CsvCells.cell("a'b")).isEqualTo("a'b");
        assertThat(CsvCells.cell("caf\u00e9 \u2603")).isEqualTo("caf\u00e9 \u2603");
    }

    @Test
    void aMissingOrEmptyValueIsAnEmptyCell() {
        assertThat(CsvCells.cell(null)).isEmpty();
        assertThat(CsvCells.cell("")).isEmpty();
    }

    @Test
    void commasQuotesAndLineBreaksAreQuotedWithQuotesDoubled() {
        assertThat(CsvCells.cell("Smith, J")).isEqualTo("\"Smith, J\"");
        assertThat(CsvCells.cell("the \"best\" plumber")).isEqualTo("\"the \"\"best\"\" plumber\"");
        assertThat(CsvCells.cell("line one\nline two")).isEqualTo("\"line one\nline two\"");
        assertThat(CsvCells.cell("a\r\nb")).isEqualTo("\"a\r\nb\"");
        assertThat(CsvCells.cell("\"")).isEqualTo("\"\"\"\"");
    }

    @Test
    void cellsThatStartLikeAFormulaArePrefixedSoASpreadsheetShowsText() {
        assertThat(CsvCells.cell("=1+2")).isEqualTo("'=1+2");
        assertThat(CsvCells.cell("+44 20 7946 0000")).isEqualTo("'+44 20 7946 0000");
        assertThat(CsvCells.cell("-2+3")).isEqualTo("'-2+3");
        assertThat(CsvCells.cell("@SUM(A1:A9)")).isEqualTo("'@SUM(A1:A9)");
        assertThat(CsvCells.cell("\tcmd")).isEqualTo("'\tcmd");
        // A formula that also needs quoting: the prefix goes inside the quotes.
        assertThat(CsvCells.cell("=HYPERLINK(\"http://x\",\"y\")"))
                .isEqualTo("\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\"");
        assertThat(CsvCells.cell("\r=cmd")).isEqualTo("\"'\r=cmd\"");
        // Only the first character counts.
        assertThat(CsvCells.cell("a=b")).isEqualTo("a=b");
    }

    @Test
    void aRowSeparatesCellsWithCommasAndEndsWithCrlf() {
        StringBuilder out = new StringBuilder();
        CsvCells.row(out, new String[] {"id", null, "x,y", "=2"});
        CsvCells.row(out, new String[] {"only"});
        assertThat(out.toString()).isEqualTo("id,,\"x,y\",'=2\r\nonly\r\n");
    }
}
