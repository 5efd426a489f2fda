package uk.co.tradersflow.auth;

import uk.co.tradersflow.support.OnRedisCluster;

/** {@link SignInFlowTest}'s tests against a three-master Redis Cluster of their own. */
@OnRedisCluster
class SignInFlowOnRedisClusterTest extends SignInFlowTest {}
