package uk.co.tradersflow.support;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Runs a test class against a {@link LocalRedisCluster} of its own instead of the run's single
 * Redis: put it on an empty subclass of an existing test class, and the same tests run on a
 * cluster (e.g. {@code @OnRedisCluster class SignInFlowOnRedisClusterTest extends SignInFlowTest {}}).
 * The cluster starts before the class's servers (class-level extensions come before the
 * inherited {@link ServerExtension} field) and stops after them.
 */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@ExtendWith(LocalRedisCluster.PerClass.class)
public @interface OnRedisCluster {}
