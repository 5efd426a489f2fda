package uk.co.tradersflow.console;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import uk.co.tradersflow.error.FieldError;

/**
 * The account page's action dialogs, described once here and rendered by the template. A Confirm
 * refused with field errors (422) comes back as the same page with that action's dialog already
 * open, the values the owner typed in its fields, and each error beside its field
 * ({@code aria-invalid}, {@code aria-describedby}, {@code autofocus} on the first): the server
 * renders all of it, so it holds with or without the script, which only adds the dialog's keys.
 */
final class ActionDialogs {
    private record Field(String id, String name, String label, boolean required, boolean numeric, String placeholder) {}

    private record Dialog(String action, Function<String, String> heading, boolean ownerOnly, List<Field> fields) {}

    private static Field reason(String prefix, boolean required) {
        return new Field(prefix + "-reason", "reason", "Reason", required, false, "");
    }

    private static final List<Dialog> DIALOGS = List.of(
            new Dialog(
                    "signin_link",
                    business -> "Send a sign-in link for " + business,
                    false,
                    List.of(reason("signin", true))),
            new Dialog(
                    "refund",
                    business -> "Refund a payment of " + business,
                    true,
                    List.of(
                            new Field("refund-payment", "paymentIntentId", "Payment", true, false, "pi_…"),
                            new Field(
                                    "refund-amount",
                                    "amountPence",
                                    "Amount (pence, empty for the whole payment)",
                                    false,
                                    true,
                                    ""),
                            reason("refund", true))),
            new Dialog(
                    "suspend",
                    business -> "Suspend " + business + ": its users are signed out and refused until reinstated",
                    true,
                    List.of(reason("suspend", true))),
            new Dialog("reinstate", business -> "Reinstate " + business, true, List.of(reason("reinstate", true))),
            new Dialog(
                    "extend_trial",
                    business -> "Extend the trial of " + business,
                    true,
                    List.of(new Field("trial-days", "days", "Days", true, true, ""), reason("trial", false))));

    /** A Confirm the service refused: which action, what was typed, and the errors it named. */
    record Refusal(String action, Map<String, String> typed, List<FieldError> errors) {}

    private ActionDialogs() {}

    /**
     * The dialogs this user may open, as template maps. Every key a field's markup reads is set on
     * each map, so that no name falls through to the page's own (Mustache looks outwards).
     */
    static List<Map<String, Object>> model(String business, boolean owner, Optional<Refusal> refused) {
        List<Map<String, Object>> dialogs = new ArrayList<>();
        for (Dialog d : DIALOGS) {
            if (d.ownerOnly() && !owner) {
                continue;
            }
            Optional<Refusal> mine = refused.filter(r -> r.action().equals(d.action()));
            boolean open = mine.filter(r -> errorsFor(d, r) > 0).isPresent();
            List<Map<String, Object>> fields = new ArrayList<>();
            boolean focused = false;
            for (Field f : d.fields()) {
                Optional<String> error = mine.flatMap(r -> errorOf(r, f.name()));
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("fieldId", f.id());
                m.put("name", f.name());
                m.put("label", f.label());
                m.put("required", f.required());
                m.put("numeric", f.numeric());
                m.put("placeholder", f.placeholder());
                m.put("hasPlaceholder", !f.placeholder().isEmpty());
                m.put("value", open ? mine.get().typed().getOrDefault(f.name(), "") : "");
                m.put("invalid", error.isPresent());
                m.put("fieldError", error.orElse(""));
                m.put("autofocus", error.isPresent() && !focused);
                focused |= error.isPresent();
                fields.add(m);
            }
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("dialogAction", d.action());
            m.put("heading", d.heading().apply(business));
            m.put("open", open);
            m.put("fields", fields);
            dialogs.add(m);
        }
        return dialogs;
    }

    private static long errorsFor(Dialog d, Refusal r) {
        return d.fields().stream().filter(f -> errorOf(r, f.name()).isPresent()).count();
    }

    /** The service names a dialog's input {@code params.<name>} (its place in the API's body). */
    private static Optional<String> errorOf(Refusal r, String name) {
        return r.errors().stream()
                .filter(e -> e.field().equals("params." + name) || e.field().equals(name))
                .map(FieldError::message)
                .findFirst();
    }
}
