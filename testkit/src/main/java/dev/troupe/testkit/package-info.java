/**
 * Clusters of Troupe nodes for JUnit 5 tests: {@link dev.troupe.testkit.TestCluster} (nodes in the
 * test's JVM), {@link dev.troupe.testkit.ProcessCluster} (child JVMs that can be killed, paused and
 * resumed), the {@link dev.troupe.testkit.ClusterExtension} that starts and closes either, waits
 * without sleeping ({@link dev.troupe.testkit.Eventually}, {@link dev.troupe.testkit.Stages}) and
 * test databases ({@link dev.troupe.testkit.TestDatabases}).
 */
package dev.troupe.testkit;
