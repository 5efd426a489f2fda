package uk.co.tradersflow.data.customers;

import java.util.Optional;
import uk.co.tradersflow.platform.http.JsonInput;

/**
 * A validated create or PATCH body. For PATCH each field is {@code null} when absent (leave as
 * is), and {@code Optional.empty()} when sent as null or blank (clear it). The typed command of
 * {@link CustomerService#create} and {@link CustomerService#update}.
 */
public record CustomerInput(
        Optional<String> name,
        Optional<String> email,
        Optional<String> phone,
        Optional<String> address,
        Optional<String> notes,
        boolean hasName,
        boolean hasEmail,
        boolean hasPhone,
        boolean hasAddress,
        boolean hasNotes) {

    static CustomerInput forCreate(JsonInput in) {
        String name = in.requiredText("name", 200);
        CustomerInput input = read(in, Optional.of(name), true);
        in.validate();
        return input;
    }

    static CustomerInput forPatch(JsonInput in) {
        boolean hasName = in.has("name");
        Optional<String> name = hasName ? Optional.of(in.requiredText("name", 200)) : Optional.empty();
        CustomerInput input = read(in, name, hasName);
        in.validate();
        return input;
    }

    private static CustomerInput read(JsonInput in, Optional<String> name, boolean hasName) {
        return new CustomerInput(
                name,
                in.optionalEmail("email"),
                in.optionalText("phone", 40),
                in.optionalText("address", 1000),
                in.optionalText("notes", 10000),
                hasName,
                in.has("email"),
                in.has("phone"),
                in.has("address"),
                in.has("notes"));
    }
}
