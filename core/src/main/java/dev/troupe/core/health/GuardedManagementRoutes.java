package dev.troupe.core.health;

import dev.troupe.core.AccessToken;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.pekko.actor.ExtendedActorSystem;
import org.apache.pekko.actor.ExtensionIdProvider;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.http.javadsl.server.directives.RouteAdapter;
import org.apache.pekko.http.scaladsl.server.RequestContext;
import org.apache.pekko.http.scaladsl.server.RouteResult;
import org.apache.pekko.management.scaladsl.ManagementRouteProvider;
import org.apache.pekko.management.scaladsl.ManagementRouteProviderSettings;
import org.apache.pekko.management.scaladsl.ManagementRouteProviderSettingsImpl;
import scala.Function1;
import scala.concurrent.Future;

/**
 * A Pekko Management route provider that serves other route providers behind the operator token
 * ({@link AccessToken}, {@code troupe.security.access-token}): a request without {@code
 * Authorization: Bearer <token>} is rejected, and answered 401 unless an open route (the health
 * checks, Cluster Bootstrap's contact point) serves it.
 *
 * <p>{@code TroupeNode.start} sets it up by itself when the token is set: every entry of {@code
 * pekko.management.http.routes} other than {@code troupe.core.management.open-routes} moves to
 * {@code troupe.core.management.guarded-routes} and this provider serves them. An application that
 * runs Management on its own actor system does the same in its configuration:
 *
 * <pre>
 * pekko.management.http.routes {
 *   cluster-management = ""
 *   troupe-guarded = "dev.troupe.core.health.GuardedManagementRoutes"
 * }
 * troupe.core.management.guarded-routes {
 *   cluster-management = "org.apache.pekko.management.cluster.ClusterHttpManagementRouteProvider"
 * }
 * </pre>
 */
public final class GuardedManagementRoutes implements ManagementRouteProvider {
  /** Where the guarded providers are listed: name to class name, as in Management's own list. */
  public static final String GUARDED = "troupe.core.management.guarded-routes";

  private final AccessToken token;
  private final List<Object> providers = new ArrayList<>();

  /** Called by Pekko Management, which loads route providers by class name. */
  public GuardedManagementRoutes(ExtendedActorSystem system) {
    this.token = AccessToken.fromConfig(system.settings().config());
    if (!token.isSet()) {
      throw new IllegalStateException(
          GuardedManagementRoutes.class.getName()
              + " is configured but "
              + AccessToken.SETTING
              + " is empty: set the token or remove the guard");
    }
    if (system.settings().config().hasPath(GUARDED)) {
      for (Map.Entry<String, Object> e :
          system.settings().config().getConfig(GUARDED).root().unwrapped().entrySet()) {
        String className = String.valueOf(e.getValue());
        if (!className.isBlank()) {
          providers.add(load(system, e.getKey(), className));
        }
      }
    }
  }

  @Override
  public Function1<RequestContext, Future<RouteResult>> routes(
      ManagementRouteProviderSettings settings) {
    List<Route> inner = new ArrayList<>();
    for (Object provider : providers) {
      if (provider instanceof ManagementRouteProvider scala) {
        inner.add(RouteAdapter.asJava(scala.routes(settings)));
      } else {
        inner.add(
            ((org.apache.pekko.management.javadsl.ManagementRouteProvider) provider)
                .routes(((ManagementRouteProviderSettingsImpl) settings).asJava()));
      }
    }
    Directives d = new Directives();
    Route guarded =
        d.authenticateOAuth2(
            "troupe",
            credentials ->
                credentials
                    .map(c -> c.identifier())
                    .filter(token::accepts)
                    .map(presented -> "operator"),
            operator -> inner.isEmpty() ? d.reject() : d.concat(inner.get(0), rest(inner)));
    return guarded.asScala();
  }

  private static Route[] rest(List<Route> routes) {
    return routes.subList(1, routes.size()).toArray(new Route[0]);
  }

  /** Loads a provider as Pekko Management does: a Scala object, an extension, or a class. */
  private static Object load(ExtendedActorSystem system, String name, String className) {
    var access = system.dynamicAccess();
    Object loaded =
        access
            .getObjectFor(className, scala.reflect.ClassTag.apply(ExtensionIdProvider.class))
            .toOption()
            .map(id -> (Object) system.registerExtension(((ExtensionIdProvider) id).lookup()))
            .getOrElse(() -> instantiate(system, className));
    if (!(loaded instanceof ManagementRouteProvider)
        && !(loaded instanceof org.apache.pekko.management.javadsl.ManagementRouteProvider)) {
      throw new IllegalArgumentException(
          GUARDED + "." + name + " = [" + className + "] is not a Pekko Management route provider");
    }
    return loaded;
  }

  private static Object instantiate(ExtendedActorSystem system, String className) {
    try {
      Class<?> type = Class.forName(className, true, system.dynamicAccess().classLoader());
      try {
        return type.getConstructor(ExtendedActorSystem.class).newInstance(system);
      } catch (NoSuchMethodException e) {
        return type.getConstructor().newInstance();
      }
    } catch (ReflectiveOperationException e) {
      throw new IllegalArgumentException(
          "cannot load the Management route provider [" + className + "]: " + e, e);
    }
  }

  /** The Java directives, as an instance (they are instance methods). */
  private static final class Directives extends AllDirectives {}
}
