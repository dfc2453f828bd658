package dev.troupe.core;

import com.typesafe.config.Config;
import dev.troupe.core.internal.NodeConfig;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.regex.Pattern;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.AddressFromURIString;

/**
 * How to start a {@link TroupeNode}: name, network address, seed nodes, roles and extra settings.
 *
 * <p>Built with {@link #builder()}; {@link Builder#build()} validates every option and throws
 * {@link IllegalArgumentException} naming the option and the bad value. Options left unset fall
 * back to configuration ({@code application.conf}, then Troupe's and Pekko's {@code
 * reference.conf}):
 *
 * <pre>{@code
 * TroupeNode node = TroupeNode.start(NodeOptions.builder()
 *     .name("node-1")
 *     .port(0)                                        // any free port
 *     .seedNodes(List.of("pekko://troupe@10.0.0.1:17355"))
 *     .build());
 * }</pre>
 *
 * <p>With no seed nodes (and no {@code pekko.cluster.seed-nodes} in configuration) the node joins
 * itself: an embedded single-node cluster.
 *
 * @since 0.1.0
 */
public final class NodeOptions {
  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._\\-]{0,63}");

  private final Optional<String> name;
  private final Optional<String> host;
  private final OptionalInt port;
  private final List<Address> seedNodes;
  private final Set<String> roles;
  private final String config;
  private final String systemName;
  private final Optional<MeterRegistry> meterRegistry;

  private NodeOptions(Builder b, List<Address> seeds, String systemName) {
    this.name = Optional.ofNullable(b.name);
    this.host = Optional.ofNullable(b.host);
    this.port = b.port == null ? OptionalInt.empty() : OptionalInt.of(b.port);
    this.seedNodes = List.copyOf(seeds);
    this.roles = Set.copyOf(b.roles);
    this.config = b.config;
    this.systemName = systemName;
    this.meterRegistry = Optional.ofNullable(b.meterRegistry);
  }

  /**
   * The registry Troupe's meters go to ({@link TroupeNode#meterRegistry()}); empty = none, Troupe
   * records nothing.
   *
   * @since 0.3.0
   */
  public Optional<MeterRegistry> meterRegistry() {
    return meterRegistry;
  }

  /** Returns a builder with every option unset. */
  public static Builder builder() {
    return new Builder();
  }

  /** Returns options with every option unset: an embedded single-node cluster on the defaults. */
  public static NodeOptions defaults() {
    return builder().build();
  }

  /** The node name, if set; otherwise {@code troupe.core.node-name} or {@code host:port}. */
  public Optional<String> name() {
    return name;
  }

  /** The host to bind and advertise, if set; otherwise from configuration (127.0.0.1). */
  public Optional<String> host() {
    return host;
  }

  /** The port, if set (0 = any free port); otherwise from configuration (Pekko default 17355). */
  public OptionalInt port() {
    return port;
  }

  /** The seed nodes to join, parsed; empty = join the configured seeds or, if none, itself. */
  public List<Address> seedNodes() {
    return seedNodes;
  }

  /** The cluster roles of this node. */
  public Set<String> roles() {
    return roles;
  }

  /** Extra HOCON settings with the highest precedence; empty if none. */
  public String config() {
    return config;
  }

  /** The ActorSystem name the node will use ({@code troupe.core.system-name}). */
  public String systemName() {
    return systemName;
  }

  /**
   * The configuration {@link TroupeNode#start} creates the actor system with for these options:
   * every layer merged and resolved (these options, {@code application.conf}, the profile's and
   * Troupe's Pekko defaults, every {@code reference.conf}). For tools and tests that must agree
   * with what a node runs with, such as deployment manifests.
   *
   * @throws IllegalArgumentException if a layer is invalid (an unknown profile, for example)
   * @since 0.3.0
   */
  public Config toConfig() {
    return NodeConfig.build(this);
  }

  @Override
  public String toString() {
    return "NodeOptions(name="
        + name.orElse("<default>")
        + ", host="
        + host.orElse("<default>")
        + ", port="
        + (port.isPresent() ? String.valueOf(port.getAsInt()) : "<default>")
        + ", seedNodes="
        + seedNodes
        + ", roles="
        + roles
        + ")";
  }

  /** Builder for {@link NodeOptions}; not thread-safe. */
  public static final class Builder {
    private String name;
    private String host;
    private Integer port;
    private List<String> seedNodes = List.of();
    private Set<String> roles = Set.of();
    private String config = "";
    private MeterRegistry meterRegistry;

    private Builder() {}

    /**
     * The application's Micrometer registry: every Troupe meter of the node (names under {@code
     * troupe.}, tagged {@code node}) is registered on it. Unset: Troupe records nothing.
     *
     * @since 0.3.0
     */
    public Builder meterRegistry(MeterRegistry registry) {
      this.meterRegistry = registry;
      return this;
    }

    /** The node name for logs and the dashboard: letters, digits, {@code . _ -}; 1-64 chars. */
    public Builder name(String name) {
      this.name = name;
      return this;
    }

    /** The host to bind and advertise; default 127.0.0.1. */
    public Builder host(String host) {
      this.host = host;
      return this;
    }

    /** The port to bind; 0 = any free port; default 17355. */
    public Builder port(int port) {
      this.port = port;
      return this;
    }

    /** Seed nodes such as {@code "pekko://troupe@127.0.0.1:17355"}; empty = join itself. */
    public Builder seedNodes(List<String> seeds) {
      this.seedNodes = seeds == null ? null : new ArrayList<>(seeds);
      return this;
    }

    /** Cluster roles of this node (for fleets, singletons and placement restricted to a role). */
    public Builder roles(Set<String> roles) {
      this.roles = roles == null ? null : new LinkedHashSet<>(roles);
      return this;
    }

    /** Extra HOCON settings, applied with the highest precedence. */
    public Builder config(String hocon) {
      this.config = hocon;
      return this;
    }

    /**
     * Validates the options and builds them.
     *
     * @throws IllegalArgumentException naming the option and the bad value: an empty or malformed
     *     name, a blank host, a port outside 0..65535, a malformed seed address, a seed whose
     *     system name differs from {@code troupe.core.system-name}, malformed HOCON in {@code
     *     config}
     */
    public NodeOptions build() {
      if (name != null && !NAME.matcher(name).matches()) {
        throw new IllegalArgumentException(
            "NodeOptions.name must be 1-64 letters, digits, '.', '_' or '-' (starting with a letter"
                + " or digit), got: ["
                + name
                + "]");
      }
      if (host != null && host.isBlank()) {
        throw new IllegalArgumentException(
            "NodeOptions.host must not be empty, got: [" + host + "]");
      }
      if (port != null && (port < 0 || port > 65535)) {
        throw new IllegalArgumentException(
            "NodeOptions.port must be in 0..65535 (0 = any free port), got: " + port);
      }
      if (seedNodes == null) {
        throw new IllegalArgumentException("NodeOptions.seedNodes must not be null");
      }
      if (roles == null) {
        throw new IllegalArgumentException("NodeOptions.roles must not be null");
      }
      for (String role : roles) {
        if (role == null || role.isBlank()) {
          throw new IllegalArgumentException(
              "NodeOptions.roles must not contain an empty role, got: " + roles);
        }
      }
      if (config == null) {
        throw new IllegalArgumentException("NodeOptions.config must not be null");
      }
      String systemName = NodeConfig.systemName(config);
      List<Address> seeds = new ArrayList<>();
      for (String seed : seedNodes) {
        seeds.add(parseSeed(seed, systemName));
      }
      return new NodeOptions(this, seeds, systemName);
    }

    private static Address parseSeed(String seed, String systemName) {
      if (seed == null || seed.isBlank()) {
        throw new IllegalArgumentException(
            "NodeOptions.seedNodes must not contain an empty address, got: [" + seed + "]");
      }
      Address address;
      try {
        address = AddressFromURIString.parse(seed.trim());
      } catch (Exception e) { // Scala throws the checked MalformedURLException undeclared
        throw new IllegalArgumentException(
            "NodeOptions.seedNodes contains a malformed address ["
                + seed
                + "]; expected pekko://"
                + systemName
                + "@host:port",
            e);
      }
      if (!"pekko".equals(address.protocol())
          || address.getHost().isEmpty()
          || address.getPort().isEmpty()) {
        throw new IllegalArgumentException(
            "NodeOptions.seedNodes contains a malformed address ["
                + seed
                + "]; expected pekko://"
                + systemName
                + "@host:port");
      }
      if (!address.system().equals(systemName)) {
        throw new IllegalArgumentException(
            "NodeOptions.seedNodes contains ["
                + seed
                + "] with system name ["
                + address.system()
                + "], but this node's system name is ["
                + systemName
                + "] (troupe.core.system-name); all nodes of a cluster share one system name");
      }
      return address;
    }
  }
}
