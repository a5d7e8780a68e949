/* json.c — see json.h. */
#include <json-c/json.h>

#include "base/json.h"

const char *json_str(struct json_object *o, const char *key)
{
	struct json_object *v = NULL;
	if (o && json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string))
		return json_object_get_string(v);
	return NULL;
}
