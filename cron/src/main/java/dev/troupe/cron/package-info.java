/**
 * A cluster cron ({@link dev.troupe.cron.Cron}): node- or cluster-scoped jobs ({@link
 * dev.troupe.cron.CronJob}) with time zones and DST, one fire per scheduled instant across a
 * scheduler failover, delivered as {@link dev.troupe.cron.CronTick}s.
 */
package dev.troupe.cron;
