/* Dotted-path lookup: "server.ports.1" walks object members and array indexes. */
#include <stdlib.h>
#include <string.h>

#include "cfg.h"

/* Each step returns the slot holding the value (the value itself may be NULL for `null`), or NULL if missing. */
static cfg_value *const *lookup_member(const cfg_value *obj, const char *key, size_t key_len) {
  for (size_t i = 0; i < obj->as.object.len; i++) {
    const cfg_member *m = &obj->as.object.members[i];
    if (strlen(m->key) == key_len && memcmp(m->key, key, key_len) == 0) return &m->value;
  }
  return NULL;
}

static cfg_value *const *lookup_index(const cfg_value *arr, const char *key, size_t key_len) {
  char *end;
  unsigned long i = strtoul(key, &end, 10);
  if (key_len == 0 || end != key + key_len || i >= arr->as.array.len) return NULL;
  return &arr->as.array.items[i];
}

/*
 * Known bug, kept on purpose for the example's crash test: walking *through* a `null`
 * ("a.b" where a is null) passes a NULL value here, and v->type dereferences it.
 */
static cfg_value *const *lookup_step(const cfg_value *v, const char *key, size_t key_len) {
  if (v->type == CFG_OBJECT) return lookup_member(v, key, key_len);
  if (v->type == CFG_ARRAY) return lookup_index(v, key, key_len);
  return NULL;
}

int cfg_lookup(const cfg_value *root, const char *path, const cfg_value **out) {
  const cfg_value *v = root;
  const char *seg = path;
  for (;;) {
    const char *dot = strchr(seg, '.');
    size_t n = dot ? (size_t)(dot - seg) : strlen(seg);
    cfg_value *const *slot = lookup_step(v, seg, n);
    if (!slot) return 0;
    v = *slot;
    if (!dot) break;
    seg = dot + 1;
  }
  *out = v;
  return 1;
}
