/* kcheck.c — see kcheck.h: make drivers/pci/quirks.o, timed, reported as
 * the "compile_check" JSON object both commands print. */
#include <string.h>

#include "base/err.h"
#include "base/util.h"
#include "kernel/kcheck.h"
#include "kernel/kmake.h"

json_object *compile_check(const char *src, const char *log, const char *skip, const char **state,
			   struct acso_err *e)
{
	json_object *jc = json_object_new_object();
	const char *why = skip;
	*state = "skipped";
	if (!skip) {
		double t0 = now_seconds();
		if (kmake_quirks_check(src, log, e) < 0) {
			*state = "failed";
			why = e->msg;
		} else {
			*state = "passed";
			json_object_object_add(jc, "seconds", json_object_new_double(now_seconds() - t0));
		}
		json_object_object_add(jc, "log", json_object_new_string(log));
	}
	json_object_object_add(jc, "status", json_object_new_string(*state));
	if (why)
		json_object_object_add(jc, "reason", json_object_new_string(why));
	return jc;
}
