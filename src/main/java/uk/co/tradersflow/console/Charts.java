package uk.co.tradersflow.console;

import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Locale;
import uk.co.tradersflow.admin.Analytics;

/**
 * The analytics page's two charts, drawn as SVG on the server (no chart library, no script):
 * each an {@code <svg role="img">} named by its {@code <title>} through {@code aria-labelledby}.
 * Everything interpolated is a number or a fixed label; colours come from the stylesheet.
 */
final class Charts {
    private static final int W = 600;
    private static final int H = 200;
    static final String SIGNUPS_NAME = "Signups per day over 30 days";
    static final String STATUS_NAME = "Accounts by subscription status";
    private static final List<String> STATUSES = List.of("none", "trialing", "active", "past_due", "cancelled");

    private Charts() {}

    static String signups(List<Analytics.DayCount> days) {
        long max = Math.max(
                1, days.stream().mapToLong(Analytics.DayCount::count).max().orElse(1));
        double bar = (double) W / Math.max(1, days.size());
        StringBuilder svg = open("chart-signups", SIGNUPS_NAME, summary(days));
        for (int i = 0; i < days.size(); i++) {
            long c = days.get(i).count();
            double h = (H - 20) * (double) c / max;
            svg.append(String.format(
                    Locale.ROOT,
                    "<rect class=\"bar\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"><title>%s: %d</title></rect>",
                    i * bar + 1,
                    H - h,
                    Math.max(1, bar - 2),
                    h,
                    days.get(i).day(),
                    c));
        }
        return svg.append("</svg>").toString();
    }

    static String statuses(JsonObject byStatus) {
        long max = Math.max(
                1,
                STATUSES.stream().mapToLong(s -> byStatus.getLong(s, 0L)).max().orElse(1));
        double bar = (double) W / STATUSES.size();
        StringBuilder desc = new StringBuilder();
        STATUSES.forEach(
                s -> desc.append(s).append(' ').append(byStatus.getLong(s, 0L)).append("; "));
        StringBuilder svg = open("chart-status", STATUS_NAME, desc.toString());
        for (int i = 0; i < STATUSES.size(); i++) {
            long c = byStatus.getLong(STATUSES.get(i), 0L);
            double h = (H - 40) * (double) c / max;
            svg.append(String.format(
                            Locale.ROOT,
                            "<rect class=\"bar\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"></rect>",
                            i * bar + 10,
                            H - 20 - h,
                            bar - 20,
                            h))
                    .append(String.format(
                            Locale.ROOT,
                            "<text x=\"%.1f\" y=\"%d\">%s (%d)</text>",
                            i * bar + 10,
                            H - 5,
                            STATUSES.get(i),
                            c));
        }
        return svg.append("</svg>").toString();
    }

    static String pounds(long pence) {
        return String.format(Locale.ROOT, "£%,d.%02d", pence / 100, pence % 100);
    }

    private static StringBuilder open(String id, String name, String description) {
        return new StringBuilder()
                .append("<svg role=\"img\" class=\"chart\" aria-labelledby=\"")
                .append(id)
                .append("-title ")
                .append(id)
                .append("-desc\" viewBox=\"0 0 ")
                .append(W)
                .append(' ')
                .append(H)
                .append("\" xmlns=\"http://www.w3.org/2000/svg\"><title id=\"")
                .append(id)
                .append("-title\">")
                .append(name)
                .append("</title><desc id=\"")
                .append(id)
                .append("-desc\">")
                .append(description)
                .append("</desc>");
    }

    private static String summary(List<Analytics.DayCount> days) {
        long total = days.stream().mapToLong(Analytics.DayCount::count).sum();
        return total + " signups in " + days.size() + " days";
    }
}
