/* interrupt.h — Ctrl-C (SIGINT, SIGTERM, SIGHUP) during a long core step.
 *
 * The default action kills the process where it stands: a half-extracted
 * staging directory would stay until the next fetch. Between
 * interrupt_begin() and interrupt_end() a handler only records the signal;
 * the step polls interrupted(), stops, removes what it made and returns
 * -EINTR. interrupt_end() restores the previous handlers. (A SIGKILL is
 * still cleaned up by remove_dead_temps() on the next run.) */
#pragma once

struct interrupt_guard {
	void *old;      /* the previous sigactions */
};

void interrupt_begin(struct interrupt_guard *g);
void interrupt_end(struct interrupt_guard *g);
/* The signal received since interrupt_begin(), or 0. Safe from any thread. */
int interrupted(void);
