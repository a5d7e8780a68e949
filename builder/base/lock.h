/* lock.h — one lock per work directory against concurrent runs. */
#pragma once
struct acso_err;

/* Take WORK_DIR/lock (flock, non-blocking) and record our pid and command in
 * it. Returns an fd to keep open, or -ACSO_E_LOCKED with "held by pid N
 * (acso run, since ...)" in e. */
int lock_work_dir(const char *work_dir, const char *what, struct acso_err *e);
void unlock_work_dir(int fd);
