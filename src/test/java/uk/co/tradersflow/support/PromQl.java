package uk.co.tradersflow.support;

import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Just enough PromQL reading for tests: the metric names an expression selects. */
public final class PromQl {
    private static final Set<String> KEYWORDS = Set.of(
            "and",
            "or",
            "unless",
            "by",
            "without",
            "on",
            "ignoring",
            "group_left",
            "group_right",
            "offset",
            "bool",
            "inf",
            "nan");
    private static final Pattern IDENTIFIER = Pattern.compile("[a-zA-Z_:][a-zA-Z0-9_:]*");

    private PromQl() {}

    /**
     * Metric names in {@code expr}: identifiers that are not functions (followed by "("),
     * keywords, label names (inside braces or a by/without list), strings, durations, or
     * recording rules (names with a colon, defined in the rule file itself).
     */
    public static Set<String> metricNames(String expr) {
        String s = expr.replaceAll("\"(?:[^\"\\\\]|\\\\.)*\"", "\"\"") // string literals
                .replaceAll("\\{[^}]*}", "") // label matchers
                .replaceAll("\\[[^]]*]", "") // range and subquery windows
                .replaceAll("(?i)\\b(by|without|on|ignoring|group_left|group_right)\\s*\\([^)]*\\)", " ") // label lists
                .replaceAll("\\b(\\d+(ms|s|m|h|d|w|y))+\\b", " ") // durations (offset 5m)
                .replaceAll("\\b\\d+(\\.\\d+)?(e[+-]?\\d+)?\\b", " "); // numbers
        Set<String> names = new TreeSet<>();
        Matcher m = IDENTIFIER.matcher(s);
        while (m.find()) {
            String word = m.group();
            int next = m.end();
            while (next < s.length() && Character.isWhitespace(s.charAt(next))) {
                next++;
            }
            boolean call = next < s.length() && s.charAt(next) == '(';
            if (!call && !KEYWORDS.contains(word.toLowerCase(java.util.Locale.ROOT)) && !word.contains(":")) {
                names.add(word);
            }
        }
        return names;
    }
}
