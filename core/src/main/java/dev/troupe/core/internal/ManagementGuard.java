package dev.troupe.core.internal;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigUtil;
import dev.troupe.core.AccessToken;
import dev.troupe.core.health.GuardedManagementRoutes;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * With the operator token set, the settings that put Pekko Management's route providers (all but
 * {@code troupe.core.management.open-routes}) behind it: each moves from {@code
 * pekko.management.http.routes} to {@link GuardedManagementRoutes#GUARDED}, and {@link
 * GuardedManagementRoutes} serves them.
 */
final class ManagementGuard {
  static final String ROUTES = "pekko.management.http.routes";
  static final String PROVIDER_NAME = "troupe-guarded";
  // by name: the class needs Pekko Management, an optional dependency
  static final String GUARD_CLASS = "dev.troupe.core.health.GuardedManagementRoutes";

  private ManagementGuard() {}

  /** The overrides for {@code config} (resolved); empty without a token or without Management. */
  static Map<String, Object> overrides(Config config) {
    Map<String, Object> overrides = new HashMap<>();
    if (!AccessToken.fromConfig(config).isSet() || !config.hasPath(ROUTES)) {
      return overrides;
    }
    List<String> open = config.getStringList("troupe.core.management.open-routes");
    config
        .getConfig(ROUTES)
        .root()
        .unwrapped()
        .forEach(
            (name, className) -> {
              String provider = String.valueOf(className);
              if (open.contains(name) || name.equals(PROVIDER_NAME) || provider.isBlank()) {
                return;
              }
              overrides.put(ConfigUtil.joinPath("pekko", "management", "http", "routes", name), "");
              overrides.put(
                  GuardedManagementRoutes.GUARDED + "." + ConfigUtil.quoteString(name), provider);
            });
    if (!overrides.isEmpty()) {
      overrides.put(ROUTES + "." + PROVIDER_NAME, GUARD_CLASS);
    }
    return overrides;
  }
}
