package uk.co.tradersflow.data.jobs;

/** Where a job stands. */
public enum JobStatus {
    QUOTED,
    SCHEDULED,
    IN_PROGRESS,
    DONE,
    CANCELLED;

    String dbValue() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
