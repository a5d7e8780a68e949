/* interrupt.c — see interrupt.h. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "base/interrupt.h"
#include "base/util.h"

static const int sigs[] = {SIGINT, SIGTERM, SIGHUP};
static volatile sig_atomic_t got;

static void on_signal(int sig)
{
	got = sig;
}

void interrupt_begin(struct interrupt_guard *g)
{
	struct sigaction *old = xcalloc(ARRAY_SIZE(sigs), sizeof(*old));
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	got = 0;
	for (size_t i = 0; i < ARRAY_SIZE(sigs); i++) {
		sigaction(sigs[i], NULL, &old[i]);
		/* A signal the caller ignores (nohup) stays ignored. */
		if (old[i].sa_handler != SIG_IGN)
			sigaction(sigs[i], &sa, NULL);
	}
	g->old = old;
}

void interrupt_end(struct interrupt_guard *g)
{
	struct sigaction *old = g->old;
	if (!old)
		return;
	for (size_t i = 0; i < ARRAY_SIZE(sigs); i++)
		sigaction(sigs[i], &old[i], NULL);
	free(old);
	g->old = NULL;
}

int interrupted(void)
{
	return got;
}
