package uk.co.tradersflow.config;

/** A setting that cannot be used. The message names the setting and never carries a secret's value. */
public final class ConfigException extends RuntimeException {
    public ConfigException(String message) {
        super(message, null, false, false);
    }
}
