package dev.troupe.sharding;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.troupe.core.Names;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.junit.jupiter.api.Test;

/** A fleet name follows the rule of {@link Names} and the fleet's stricter one. */
final class FleetSpecTest {

  @Test
  void aValidFleetNameIsKept() {
    assertEquals("carts.eu-1_a", spec("carts.eu-1_a").name());
    assertEquals(
        FleetSpec.MAX_NAME_LENGTH, spec("f".repeat(FleetSpec.MAX_NAME_LENGTH)).name().length());
  }

  @Test
  void aNameBreakingTheRuleOfNamesIsRefusedWithItsMessage() {
    IllegalArgumentException e = refused("carts\nINFO forged");
    assertTrue(e.getMessage().startsWith("FleetSpec name must be " + Names.RULE), e.getMessage());
    assertTrue(e.getMessage().contains("[carts\\u000aINFO forged]"), e.getMessage());
    refused(null);
    refused("");
    refused("a b");
  }

  @Test
  void aValidNameOutsideTheFleetRuleIsRefusedWithTheFleetRule() {
    for (String name :
        new String[] {
          "Zürich", "carts:eu", "carts@eu", "f".repeat(FleetSpec.MAX_NAME_LENGTH + 1)
        }) {
      assertTrue(Names.isValid(name), name);
      IllegalArgumentException e = refused(name);
      assertTrue(
          e.getMessage().startsWith("FleetSpec name must be 1-100 ASCII letters"), e.getMessage());
    }
  }

  private static FleetSpec<String> spec(String name) {
    return FleetSpec.of(name, String.class, key -> Behaviors.empty());
  }

  private static IllegalArgumentException refused(String name) {
    return assertThrows(IllegalArgumentException.class, () -> spec(name));
  }
}
