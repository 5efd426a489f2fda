package uk.co.tradersflow.admin.report;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/** The owners' CSV reports: each one's name (as the {@code export_report} action names it) and columns. */
public enum Report {
    ACCOUNTS("accounts", "id", "businessName", "status", "ownerEmail", "subscriptionStatus", "createdAt", "closedAt"),
    SUBSCRIPTIONS(
            "subscriptions",
            "accountId",
            "businessName",
            "subscriptionStatus",
            "stripeStatus",
            "trialEnd",
            "currentPeriodEnd",
            "cancelAtPeriodEnd",
            "stripeCustomerId",
            "subscriptionId",
            "updatedAt"),
    EMAILS(
            "emails",
            "id",
            "accountId",
            "template",
            "recipient",
            "status",
            "attempts",
            "createdAt",
            "sentAt",
            "lastError"),
    AUDIT(
            "audit",
            "id",
            "occurredAt",
            "accountId",
            "actorType",
            "actorId",
            "impersonatedBy",
            "action",
            "targetType",
            "targetId",
            "ip",
            "userAgent",
            "details",
            "prevHash",
            "hash");

    private final String reportName;
    private final String[] header;

    Report(String reportName, String... header) {
        this.reportName = reportName;
        this.header = header;
    }

    public String reportName() {
        return reportName;
    }

    String[] header() {
        return header.clone();
    }

    static Optional<Report> named(String name) {
        return Arrays.stream(values())
                .filter(r -> r.reportName.equals(name == null ? null : name.toLowerCase(Locale.ROOT)))
                .findFirst();
    }

    static List<String> names() {
        return Arrays.stream(values()).map(Report::reportName).toList();
    }
}
