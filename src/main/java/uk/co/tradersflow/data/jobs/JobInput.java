package uk.co.tradersflow.data.jobs;

import java.time.Instant;
import java.util.Optional;
import java.util.UUID;
import uk.co.tradersflow.platform.http.JsonInput;

/**
 * A validated create or PATCH body, the typed command of {@link JobService#create} and
 * {@link JobService#update}; {@code has*} says whether a PATCH touches the field.
 */
public record JobInput(
        Optional<String> title,
        Optional<UUID> customerId,
        Optional<String> description,
        Optional<JobStatus> status,
        Optional<Instant> scheduledFor,
        boolean hasTitle,
        boolean hasCustomerId,
        boolean hasDescription,
        boolean hasStatus,
        boolean hasScheduledFor) {

    static JobInput forCreate(JsonInput in) {
        String title = in.requiredText("title", 200);
        JobInput input = read(in, Optional.of(title), true);
        in.validate();
        return input;
    }

    static JobInput forPatch(JsonInput in) {
        boolean hasTitle = in.has("title");
        Optional<String> title = hasTitle ? Optional.of(in.requiredText("title", 200)) : Optional.empty();
        JobInput input = read(in, title, hasTitle);
        if (input.hasStatus() && input.status().isEmpty()) {
            in.error("status", "must not be null");
        }
        in.validate();
        return input;
    }

    private static JobInput read(JsonInput in, Optional<String> title, boolean hasTitle) {
        return new JobInput(
                title,
                in.optionalUuid("customerId"),
                in.optionalText("description", 10000),
                in.optionalEnum("status", JobStatus.class),
                in.optionalInstant("scheduledFor"),
                hasTitle,
                in.has("customerId"),
                in.has("description"),
                in.has("status"),
                in.has("scheduledFor"));
    }
}
