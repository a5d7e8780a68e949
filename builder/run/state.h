/* state.h — `acso run`'s record per target: WORK/state/<target>.json, written
 * atomically after each step (inputs, outputs, timings, log paths). */
#pragma once
#include <stdbool.h>

#include "base/util.h"

struct json_object;
struct acso_err;

#define STATE_FILE_MAX ((size_t)4 << 20)

/* A target name is a file name: [A-Za-z0-9._+-], 1..64, not starting with '.'. */
bool state_target_valid(const char *target);
char *state_path(const char *work_dir, const char *target);

/* The state of target; a fresh {"target":..,"steps":{}} when there is none.
 * A file that is not a state (garbage, truncated, wrong shape, too big) is
 * moved aside to NAME.bad and *garbage set: the run starts over cleanly. */
struct json_object *state_load(const char *work_dir, const char *target, bool *garbage);
/* st has a state's shape: an object whose "steps" is an object of objects
 * (what every reader indexes). For readers that must not move a bad file. */
bool state_shape_ok(struct json_object *st);
int state_save(const char *work_dir, const char *target, struct json_object *st, struct acso_err *e);
/* Targets with a state file, sorted. */
int state_list(const char *work_dir, struct strv *targets);
