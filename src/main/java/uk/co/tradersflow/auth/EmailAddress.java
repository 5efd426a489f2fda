package uk.co.tradersflow.auth;

import java.text.Normalizer;
import java.util.Locale;
import uk.co.tradersflow.platform.http.JsonInput;

/**
 * An email address in the one form addresses are stored and looked up under: NFKC-normalised,
 * then trimmed and lower-cased. Normalising first matters: NFKC turns a no-break space into a
 * plain one, which a trim done before it would have kept, making {@code "a@b.c\u00A0"} a second
 * spelling. Constructing one always normalises, so no path can hold a second spelling.
 *
 * <p>Looking an address up (sign-in, reset) takes any text: a malformed one just names nobody,
 * at the same cost as a wrong one. An address an account will hold (sign-up, email change) must
 * also be {@link #wellFormed()}: {@link #accountEmail} checks it once, where the input is parsed.
 */
public record EmailAddress(String value) {
    public EmailAddress {
        value = Normalizer.normalize(value, Normalizer.Form.NFKC).strip().toLowerCase(Locale.ROOT);
    }

    public static EmailAddress of(String text) {
        return new EmailAddress(text);
    }

    /** Whether an account may hold this address (the API's email syntax). */
    public boolean wellFormed() {
        return JsonInput.isEmail(value);
    }

    /**
     * An address a user signs up with or moves to, from request field {@code field}: normalised
     * first, then checked, so what is stored is what was checked. Null, with the field's error
     * recorded on {@code in}, when it is missing or malformed.
     */
    static EmailAddress accountEmail(JsonInput in, String field) {
        EmailAddress email = in.optionalText(field, 254).map(EmailAddress::new).orElse(null);
        if (email == null) {
            if (!in.has(field)) {
                in.error(field, "is required");
            }
            return null;
        }
        if (!email.wellFormed()) {
            in.error(field, "must be an email address");
        }
        return email;
    }

    @Override
    public String toString() {
        return value;
    }
}
