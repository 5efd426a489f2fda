package uk.co.tradersflow.admin;

import io.vertx.core.Future;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import uk.co.tradersflow.platform.jobs.PeriodicJobVerticle;

/**
 * Keeps the analytics figures' summary (V037) young, so the Analytics page reads one row instead
 * of counting every account per request. Every instance runs it; the database lets one store the
 * figures at a time and none while they are fresh (advisory lock, their age), so adding instances
 * adds no counting. Its first round comes right after start-up.
 */
final class FiguresRefreshVerticle extends PeriodicJobVerticle {
    private static final Logger log = LoggerFactory.getLogger(FiguresRefreshVerticle.class);

    private final AdminService service;

    FiguresRefreshVerticle(AdminService service) {
        super(Duration.ofSeconds(1), AdminService.FIGURES_REFRESH);
        this.service = service;
    }

    /** Answers 1 when this instance stored the figures, 0 when they were fresh or being stored elsewhere. */
    @Override
    protected Future<Integer> round() {
        return service.refreshFigures()
                .map(stored -> stored ? 1 : 0)
                .onFailure(e -> log.warn(
                        "analytics figures not refreshed (served from the tables past {} s): {}",
                        AdminService.FIGURES_MAX_AGE.toSeconds(),
                        e.getMessage()));
    }
}
