package dev.troupe.core.internal;

import com.typesafe.config.Config;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.http.javadsl.model.Uri;
import org.apache.pekko.management.cluster.bootstrap.ClusterBootstrap;
import org.apache.pekko.management.javadsl.PekkoManagement;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * INTERNAL API. How a node that {@code TroupeNode.start} creates runs Pekko Management and forms
 * its cluster through Cluster Bootstrap ({@code troupe.core.management}, {@code
 * troupe.core.bootstrap}). Pekko Management is an optional dependency of core: this class is loaded
 * only when one of the two is on, after {@link #requireOnClassPath} has named what is missing.
 */
public final class ClusterFormation {
  private static final Logger log = LoggerFactory.getLogger(ClusterFormation.class);

  /** What {@code TroupeNode.start} does about Management and Bootstrap for one configuration. */
  public record Plan(boolean management, boolean bootstrap) {}

  /**
   * Why {@code TroupeNode.start} shuts a node down whose Management could not start; Troupe's
   * {@code reference.conf} keeps the JVM running for it (the caller gets the exception).
   */
  public static final class StartFailed
      implements org.apache.pekko.actor.CoordinatedShutdown.Reason {
    public static final StartFailed INSTANCE = new StartFailed();

    private StartFailed() {}

    @Override
    public String toString() {
      return "Pekko Management could not start";
    }
  }

  private ClusterFormation() {}

  /**
   * The plan for {@code config}: Cluster Bootstrap when it is on and the node has no seed nodes
   * (with seed nodes the seeds win); Management when it is on, or for Cluster Bootstrap (whose
   * contact points are Management's HTTP routes).
   */
  public static Plan plan(Config config, boolean hasSeeds) {
    boolean bootstrap = config.getBoolean("troupe.core.bootstrap.enabled");
    if (bootstrap && hasSeeds) {
      log.info(
          "troupe.core.bootstrap.enabled is on, but seed nodes are configured: joining the seed"
              + " nodes, not bootstrapping");
      bootstrap = false;
    }
    return new Plan(bootstrap || config.getBoolean("troupe.core.management.enabled"), bootstrap);
  }

  /**
   * @throws IllegalArgumentException naming the Maven artifact to add if the plan needs Pekko
   *     Management or Cluster Bootstrap and the class path lacks it
   */
  public static void requireOnClassPath(Plan plan) {
    if (plan.management()) {
      require(
          "org.apache.pekko.management.javadsl.PekkoManagement",
          "troupe.core.management.enabled (or bootstrap) is on",
          "org.apache.pekko:pekko-management_2.13");
    }
    if (plan.bootstrap()) {
      require(
          "org.apache.pekko.management.cluster.bootstrap.ClusterBootstrap",
          "troupe.core.bootstrap.enabled is on",
          "org.apache.pekko:pekko-management-cluster-bootstrap_2.13");
    }
  }

  private static void require(String className, String because, String artifact) {
    try {
      Class.forName(className, false, ClusterFormation.class.getClassLoader());
    } catch (ClassNotFoundException | LinkageError e) {
      throw new IllegalArgumentException(
          because
              + ", but "
              + className
              + " is not on the class path: add the dependency "
              + artifact
              + " (Pekko Management 1.1.1), or turn the setting off");
    }
  }

  /**
   * Starts Pekko Management (waiting until its HTTP server is bound) and, if the plan says so,
   * Cluster Bootstrap.
   *
   * @return Management's base URI (with the bound port), empty if the plan has no Management
   * @throws IllegalStateException naming the host and port if Management cannot bind in time
   */
  public static java.util.Optional<java.net.URI> start(ActorSystem<?> system, Plan plan) {
    if (!plan.management()) {
      return java.util.Optional.empty();
    }
    Config config = system.settings().config();
    Duration timeout = config.getDuration("troupe.core.management.start-timeout");
    String where =
        config.getString("pekko.management.http.hostname")
            + ":"
            + config.getString("pekko.management.http.port");
    Object uri;
    try {
      uri = OnClassPath.startManagement(system).get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("Interrupted while starting Pekko Management on " + where, e);
    } catch (Exception e) {
      Throwable cause = e instanceof java.util.concurrent.ExecutionException ? e.getCause() : e;
      throw new IllegalStateException(
          "Cannot start Pekko Management on " + where + ": " + cause, cause);
    }
    log.info("Pekko Management serves {} (health checks: /ready, /alive)", uri);
    if (plan.bootstrap()) {
      Config discovery =
          config.getConfig("pekko.management.cluster.bootstrap.contact-point-discovery");
      log.info(
          "Forming or joining the cluster through Cluster Bootstrap: discovery method [{}],"
              + " service [{}], at least {} contact points",
          discovery.getString("discovery-method"),
          discovery.getString("service-name"),
          discovery.getInt("required-contact-point-nr"));
      OnClassPath.startBootstrap(system);
    }
    return java.util.Optional.of(java.net.URI.create(uri.toString()));
  }

  /** The calls into Pekko Management, in a class of their own: loaded only when they are made. */
  private static final class OnClassPath {
    static java.util.concurrent.CompletableFuture<Uri> startManagement(ActorSystem<?> system) {
      return PekkoManagement.get(system.classicSystem()).start().toCompletableFuture();
    }

    static void startBootstrap(ActorSystem<?> system) {
      ClusterBootstrap.get(system.classicSystem()).start();
    }
  }
}
