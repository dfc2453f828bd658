package dev.troupe.core.internal;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import dev.troupe.core.NodeOptions;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * INTERNAL API. Builds the configuration of a node.
 *
 * <p>Layers, highest precedence first:
 *
 * <ol>
 *   <li>{@link NodeOptions#config()} (the user's extra HOCON);
 *   <li>the explicit {@link NodeOptions} fields (host, port, roles);
 *   <li>{@code application.conf} (and system-property overrides);
 *   <li>{@code troupe.core.production-defaults} when {@code troupe.profile = production} (TLS);
 *   <li>{@code troupe.core.fast-failover-defaults} when {@code troupe.core.failover-profile =
 *       fast};
 *   <li>{@code troupe.core.pekko-defaults} from Troupe's {@code reference.conf}: the Pekko settings
 *       Troupe changes (cluster provider, Split Brain Resolver, logging);
 *   <li>every {@code reference.conf} on the class path.
 * </ol>
 *
 * <p>All layers are merged unresolved and resolved once, together, so that substitutions such as
 * {@code receptionist.distributed-data = ${pekko.cluster.distributed-data}} see the overrides
 * (PEKKO-NOTES section 0).
 */
public final class NodeConfig {
  private static final Pattern SYSTEM_NAME = Pattern.compile("[a-zA-Z0-9][a-zA-Z0-9\\-_]*");

  private NodeConfig() {}

  /**
   * Returns the system name that {@code extraHocon} and the configuration on the class path give.
   *
   * @throws IllegalArgumentException if {@code extraHocon} is not valid HOCON or the name is not a
   *     valid ActorSystem name
   */
  public static String systemName(String extraHocon) {
    Config merged = unresolvedBase(parseExtra(extraHocon));
    String name;
    try {
      name = ConfigFactory.load(merged).getString("troupe.core.system-name");
    } catch (ConfigException e) {
      throw new IllegalArgumentException(
          "troupe.core.system-name cannot be read: " + e.getMessage(), e);
    }
    if (!SYSTEM_NAME.matcher(name).matches()) {
      throw new IllegalArgumentException(
          "troupe.core.system-name must be letters, digits, '-' or '_' (starting with a letter or"
              + " digit), got: ["
              + name
              + "]");
    }
    return name;
  }

  /** Returns the fully resolved configuration for a node started with {@code options}. */
  public static Config build(NodeOptions options) {
    Config extra = parseExtra(options.config());
    Map<String, Object> fields = new HashMap<>();
    options.host().ifPresent(h -> fields.put("pekko.remote.artery.canonical.hostname", h));
    options.port().ifPresent(p -> fields.put("pekko.remote.artery.canonical.port", p));
    options.name().ifPresent(n -> fields.put("troupe.core.node-name", n));
    if (!options.roles().isEmpty()) {
      fields.put("pekko.cluster.roles", new ArrayList<>(options.roles()));
    }
    Config explicit = ConfigFactory.parseMap(fields, "NodeOptions");
    Config layered = unresolvedBase(extra.withFallback(explicit));
    Config resolved = ConfigFactory.load(layered);
    Map<String, Object> guard = ManagementGuard.overrides(resolved);
    if (guard.isEmpty()) {
      return resolved;
    }
    return ConfigFactory.load(
        ConfigFactory.parseMap(guard, "operator token").withFallback(layered));
  }

  /** Overrides, then application.conf, then troupe.core.pekko-defaults; not yet resolved. */
  private static Config unresolvedBase(Config overrides) {
    Config application = ConfigFactory.defaultApplication();
    Config reference = ConfigFactory.defaultReferenceUnresolved();
    Config userLayers =
        ConfigFactory.defaultOverrides().withFallback(overrides).withFallback(application);
    Config all = userLayers.withFallback(reference);
    Config troupeDefaults =
        all.hasPath("troupe.core.pekko-defaults")
            ? all.getConfig("troupe.core.pekko-defaults")
            : ConfigFactory.empty();
    // The two profile names are read from a resolved copy: they may be substitutions, such as
    // troupe.profile = ${?TROUPE_PROFILE} in an application.conf.
    Config names = all.resolve();
    String profile =
        names.hasPath("troupe.core.failover-profile")
            ? names.getString("troupe.core.failover-profile")
            : "default";
    switch (profile) {
      case "default" -> {}
      case "fast" ->
          troupeDefaults =
              all.getConfig("troupe.core.fast-failover-defaults").withFallback(troupeDefaults);
      default ->
          throw new IllegalArgumentException(
              "troupe.core.failover-profile must be \"default\" or \"fast\", got: ["
                  + profile
                  + "]");
    }
    String deployment = names.hasPath("troupe.profile") ? names.getString("troupe.profile") : "";
    switch (deployment) {
      case "development" -> {}
      case "production" ->
          troupeDefaults =
              all.getConfig("troupe.core.production-defaults").withFallback(troupeDefaults);
      default ->
          throw new IllegalArgumentException(
              "troupe.profile must be \"development\" or \"production\", got: ["
                  + deployment
                  + "]");
    }
    return userLayers.withFallback(troupeDefaults);
  }

  private static Config parseExtra(String hocon) {
    try {
      return ConfigFactory.parseString(hocon == null ? "" : hocon);
    } catch (ConfigException e) {
      throw new IllegalArgumentException(
          "NodeOptions.config is not valid HOCON: " + e.getMessage(), e);
    }
  }
}
