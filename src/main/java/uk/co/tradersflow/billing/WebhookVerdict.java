package uk.co.tradersflow.billing;

import java.util.Optional;

/** The webhook verticle's answer to a delivery: stored (new or redelivery) or refused, and why. */
public record WebhookVerdict(boolean accepted, boolean duplicate, Optional<String> rejection) {
  static WebhookVerdict stored(boolean duplicate) {
    return new WebhookVerdict(true, duplicate, Optional.empty());
  }

  static WebhookVerdict rejected(String why) {
    return new WebhookVerdict(false, false, Optional.of(why));
  }
}
