package uk.co.tradersflow.storage;

import java.security.SecureRandom;
import java.util.Base64;
import java.util.UUID;
import java.util.regex.Pattern;

/**
 * A stored blob's address: the owning account and a random name. The name is generated here and
 * checked against a strict alphabet wherever it is built, so no value from a client or a database
 * row can make a path that leaves the account's folder.
 */
public record BlobId(UUID accountId, String name) {
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_-]{22,64}");
    private static final SecureRandom RANDOM = new SecureRandom();

    public BlobId {
        if (accountId == null || name == null || !NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("not a blob name");
        }
    }

    /** A fresh, unguessable name (192 random bits), unrelated to the document id or filename. */
    public static BlobId random(UUID accountId) {
        byte[] bytes = new byte[24];
        RANDOM.nextBytes(bytes);
        return new BlobId(accountId, Base64.getUrlEncoder().withoutPadding().encodeToString(bytes));
    }
}
