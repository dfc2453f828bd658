package dev.troupe.samples.hello;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.troupe.core.TroupeNode;
import dev.troupe.cron.Cron;
import dev.troupe.cron.CronJob;
import dev.troupe.daemons.Daemons;
import dev.troupe.daemons.Launcher;
import dev.troupe.sharding.FleetSpec;
import dev.troupe.sharding.WorkerFleet;
import java.util.List;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.actor.typed.receptionist.ServiceKey;

/**
 * An ordinary Pekko typed application (its own guardian, system name and {@code application.conf})
 * that adds Troupe with {@link TroupeNode#attach}: a front desk per node in a cluster-wide worker
 * group, a fleet of greeters (one per name, on the node the ring picks), a bell daemon (one in the
 * cluster) and a cron job that rings it.
 *
 * <p>Run two on one machine: {@code java -jar troupe-hello.jar 2551} and {@code ... 2552}.
 */
public final class HelloApp {
  /** Where the guardian publishes its front desk, for whoever drives the application. */
  public static final ServiceKey<FrontDesk.Command> FRONT_DESK =
      ServiceKey.create(FrontDesk.Command.class, "hello-front-desk");

  private HelloApp() {}

  /** The application's guardian: attaches Troupe and starts what the application runs. */
  public static Behavior<Void> guardian() {
    return Behaviors.setup(
        ctx -> {
          TroupeNode troupe = TroupeNode.attach(ctx.getSystem());
          WorkerFleet<Greeter.Command> greeters =
              WorkerFleet.start(
                  troupe, FleetSpec.of("greeters", Greeter.Command.class, Greeter::create));
          ActorRef<FrontDesk.Command> desk =
              ctx.spawn(FrontDesk.create(troupe, greeters), "front-desk");
          ctx.getSystem().receptionist().tell(Receptionist.register(FRONT_DESK, desk));

          Daemons.get(troupe)
              .registerLauncher(
                  "bell",
                  Launcher.of(Bell.Command.class, spec -> Bell.create("bell-ticks", troupe))
                      .withRecovery(Launcher.singletonDaemon("bell", List.of())));
          Cron.get(troupe)
              .schedule(
                  CronJob.builder("hourly-bell").spec("0 * * * *").target("bell-ticks").build());
          return Behaviors.empty();
        });
  }

  /** Starts the application; {@code config} is its own configuration. */
  public static ActorSystem<Void> start(Config config) {
    return ActorSystem.create(guardian(), "hello", config);
  }

  /** {@code HelloApp [port]}: port 2551 is the seed node. */
  public static void main(String[] args) {
    Config config = ConfigFactory.load();
    if (args.length > 0) {
      config =
          ConfigFactory.parseString("pekko.remote.artery.canonical.port = " + args[0])
              .withFallback(config);
    }
    start(config);
  }
}
