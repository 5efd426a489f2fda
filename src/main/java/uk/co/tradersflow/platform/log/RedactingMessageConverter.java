package uk.co.tradersflow.platform.log;

import ch.qos.logback.classic.pattern.MessageConverter;
import ch.qos.logback.classic.spi.ILoggingEvent;
import java.util.List;
import org.slf4j.Marker;
import org.slf4j.MarkerFactory;

/** Logback {@code %redactedMsg}: the formatted message with credentials removed. */
public final class RedactingMessageConverter extends MessageConverter {
    /**
     * Marks the one line that must show a link's token: development mail mode's "here is the
     * link you were sent" (email.DevMailbox), which exists only when TF_DEV_MAIL is on, and that
     * setting refuses any TF_PUBLIC_URL that is not this machine. Nothing else may use it.
     */
    public static final Marker DEV_MAIL_LINK = MarkerFactory.getMarker("TF_DEV_MAIL_LINK");

    @Override
    public String convert(ILoggingEvent event) {
        String message = super.convert(event);
        List<Marker> markers = event.getMarkerList();
        return markers != null && markers.contains(DEV_MAIL_LINK) ? message : Redactor.redact(message);
    }
}
