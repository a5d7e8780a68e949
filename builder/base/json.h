/* json.h — small readers of json-c objects shared by the state files and
 * the reports that read JSON back. */
#pragma once

struct json_object;

/* The string member KEY of object o, or NULL when o is NULL, the member is
 * missing or it is not a string. Owned by o. */
const char *json_str(struct json_object *o, const char *key);
