/* kcheck.h — the compile check shared by `acso patch` and `acso config`:
 * make drivers/pci/quirks.o, timed, before the full build. Core: never
 * prints; the caller says that the compile starts. */
#pragma once
#include <json-c/json.h>

struct acso_err;

/* Run make drivers/pci/quirks.o in src unless skip (the reason it is
 * skipped) is set. *state: "passed", "failed" or "skipped". Returns the
 * report object {status, reason, log, seconds}. */
json_object *compile_check(const char *src, const char *log, const char *skip, const char **state,
			   struct acso_err *e);
