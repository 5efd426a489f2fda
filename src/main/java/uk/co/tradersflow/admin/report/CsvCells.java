package uk.co.tradersflow.admin.report;

/**
 * RFC 4180 CSV, made safe to open in a spreadsheet. A cell holding a comma, a double quote, CR or
 * LF is quoted, its quotes doubled; a cell starting with {@code = + - @}, a tab or CR is
 * prefixed with {@code '} first, so a spreadsheet shows it as text instead of running it as a
 * formula (OWASP's CSV injection advice): account names, email addresses and audit details are
 * written by users. A missing value is an empty cell. Rows end with CRLF.
 */
final class CsvCells {
    private CsvCells() {}

    /** Appends one row (cells separated by commas, then CRLF) to {@code out}. */
    static void row(StringBuilder out, String[] cells) {
        for (int i = 0; i < cells.length; i++) {
            if (i > 0) {
                out.append(',');
            }
            cell(out, cells[i]);
        }
        out.append("\r\n");
    }

    /** One cell as it appears in the file. */
    static String cell(String value) {
        StringBuilder out = new StringBuilder();
        cell(out, value);
        return out.toString();
    }

    static void cell(StringBuilder out, String value) {
        if (value == null || value.isEmpty()) {
            return;
        }
        boolean formula = startsLikeAFormula(value.charAt(0));
        boolean quoted = needsQuotes(value);
        if (quoted) {
            out.append('"');
        }
        if (formula) {
            out.append('\'');
        }
        if (quoted) {
            for (int i = 0; i < value.length(); i++) {
                char c = value.charAt(i);
                if (c == '"') {
                    out.append('"');
                }
                out.append(c);
            }
            out.append('"');
        } else {
            out.append(value);
        }
    }

    private static boolean startsLikeAFormula(char first) {
        return first == '=' || first == '+' || first == '-' || first == '@' || first == '\t' || first == '\r';
    }

    private static boolean needsQuotes(String value) {
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c == ',' || c == '"' || c == '\r' || c == '\n') {
                return true;
            }
        }
        return false;
    }
}
