package dev.troupe.bench;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import org.slf4j.LoggerFactory;

/** Log levels the benchmark mains change at run time (the bench's logback.xml shows warnings). */
final class Logs {
  /** Where Pekko's typed supervisors log the failures they restart an actor for. */
  static final String SUPERVISOR_LOGGER = "org.apache.pekko.actor.typed.Behavior$";

  private Logs() {}

  /**
   * Turns off the failure logs of typed supervisors: a benchmark that crashes actors on purpose
   * would otherwise print (and time) a stack trace per crash.
   */
  static void silenceSupervisors() {
    ((Logger) LoggerFactory.getLogger(SUPERVISOR_LOGGER)).setLevel(Level.OFF);
  }
}
